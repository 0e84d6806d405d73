package dev.clip4j.image;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Child-JVM main for VectorHorizontalPassTest: which passes this JVM runs (horizontal, vertical), and a digest of resizes of every mode. */
public final class VectorPassProbe {
    private VectorPassProbe() {}

    public static void main(String[] args) {
        System.out.println("vector pass " + PilResize.VECTOR_PASS + " " + PilResize.VECTOR_VERTICAL_PASS + ", pixels " + pixels());
    }

    /** A digest of bicubic resizes (both passes, windowed) of random images of every 8-bit mode. */
    static int pixels() {
        SplittableRandom rng = new SplittableRandom(17);
        int digest = 1;
        for (PixelMode mode : new PixelMode[] {PixelMode.L, PixelMode.LA, PixelMode.RGB, PixelMode.RGBA}) {
            int w = 700 + rng.nextInt(300), h = 500 + rng.nextInt(200);
            byte[] px = new byte[w * h * mode.bands];
            for (int i = 0; i < px.length; i++) px[i] = (byte) rng.nextInt(256);
            RasterImage out = PilResize.bicubic(new RasterImage(mode, w, h, px, null), 300, 224, 38, 0, 224, 224);
            digest = 31 * digest + Arrays.hashCode(out.samples());
        }
        return digest;
    }
}
