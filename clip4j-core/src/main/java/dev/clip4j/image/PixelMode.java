package dev.clip4j.image;

/** The PIL image modes clip4j distinguishes, because PIL resizes each of them differently. */
public enum PixelMode {
    /** 8-bit grayscale: resized as one band, replicated to RGB afterwards. */
    L(1),
    /** Grayscale with alpha: resized premultiplied ("La"), alpha then dropped. */
    LA(2),
    RGB(3),
    /** RGB with alpha: resized premultiplied ("RGBa"), alpha then dropped without compositing. */
    RGBA(4),
    /** Palette image: PIL always resizes it with nearest neighbour; samples are palette indices. */
    P(1);

    public final int bands;

    PixelMode(int bands) {
        this.bands = bands;
    }
}
