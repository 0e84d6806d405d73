package dev.clip4j.image;

/**
 * An 8-bit image as PIL holds it: {@code width * height * mode.bands} interleaved samples, row-major.
 * For mode {@link PixelMode#P}, {@code palette} holds 256 packed RGB colours and the samples are indices.
 */
public record RasterImage(PixelMode mode, int width, int height, byte[] samples, int[] palette) {
    public RasterImage {
        if ((long) width * height * mode.bands != samples.length) {
            throw new IllegalArgumentException("sample count does not match " + width + "x" + height + " " + mode);
        }
        if (mode == PixelMode.P && palette == null) throw new IllegalArgumentException("palette image without palette");
    }

    public int sample(int x, int y, int band) {
        return samples[(y * width + x) * mode.bands + band] & 0xFF;
    }
}
