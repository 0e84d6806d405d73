package dev.clip4j.image;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The windowed resize (only the crop's pixels computed, row-wise vertical pass) equals the full resize then the crop,
 * sample for sample, for every mode, up- and down-scaling, one pass or two; "full" here is an independent oracle,
 * Pillow's two loops written out plainly (column by column, as its C code runs), itself checked against PIL by
 * ClipPreprocessorTest's reference photos before the fast path existed.
 */
class PilResizeWindowTest {
    @Test
    void theWindowIsTheCropOfTheFullResize() {
        SplittableRandom rng = new SplittableRandom(3);
        for (int t = 0; t < 300; t++) {
            PixelMode mode = PixelMode.values()[t % PixelMode.values().length];
            int w = 1 + rng.nextInt(90), h = 1 + rng.nextInt(90);
            byte[] px = new byte[w * h * mode.bands];
            for (int i = 0; i < px.length; i++) px[i] = (byte) rng.nextInt(256);
            int[] palette = mode == PixelMode.P ? rng.ints(256, 0, 1 << 24).toArray() : null;
            RasterImage img = new RasterImage(mode, w, h, px, palette);
            int outW = t % 7 == 0 ? w : 1 + rng.nextInt(120), outH = t % 5 == 0 ? h : 1 + rng.nextInt(120);
            int cw = 1 + rng.nextInt(outW), ch = 1 + rng.nextInt(outH);
            int left = rng.nextInt(outW - cw + 1), top = rng.nextInt(outH - ch + 1);
            RasterImage full = mode == PixelMode.L || mode == PixelMode.RGB
                    ? ClipPreprocessor.crop(plainPillow(img, outW, outH), left, top, cw, ch)
                    : ClipPreprocessor.crop(PilResize.bicubic(img, outW, outH), left, top, cw, ch);
            RasterImage window = PilResize.bicubic(img, outW, outH, left, top, cw, ch);
            String what = mode + " " + w + "x" + h + " -> " + outW + "x" + outH + " window " + cw + "x" + ch + "+" + left + "+" + top;
            assertThat(window.width()).as(what).isEqualTo(cw);
            assertThat(window.height()).as(what).isEqualTo(ch);
            assertThat(window.mode()).as(what).isEqualTo(mode);
            assertThat(window.samples()).as(what).isEqualTo(full.samples());
        }
    }

    /**
     * A source read a row at a time into a scratch row (as OpenCV's native rows are) gives the pixels of the image read
     * in place, for every mode but P (only ImageIO decodes palettes, into the heap), every pass and the plain crop.
     */
    @Test
    void rowByRowSourcesGiveTheSamePixels() {
        SplittableRandom rng = new SplittableRandom(5);
        PixelMode[] modes = {PixelMode.L, PixelMode.LA, PixelMode.RGB, PixelMode.RGBA};
        for (int t = 0; t < 300; t++) {
            PixelMode mode = modes[t % modes.length];
            int w = 1 + rng.nextInt(90), h = 1 + rng.nextInt(90);
            byte[] px = new byte[w * h * mode.bands];
            for (int i = 0; i < px.length; i++) px[i] = (byte) rng.nextInt(256);
            RasterImage img = new RasterImage(mode, w, h, px.clone(), null);
            int outW = t % 3 == 0 ? w : 1 + rng.nextInt(120), outH = t % 4 == 0 ? h : 1 + rng.nextInt(120);
            int cw = 1 + rng.nextInt(outW), ch = 1 + rng.nextInt(outH);
            int left = rng.nextInt(outW - cw + 1), top = rng.nextInt(outH - ch + 1);
            String what = mode + " " + w + "x" + h + " -> " + outW + "x" + outH + " window " + cw + "x" + ch + "+" + left + "+" + top;
            RasterImage inPlace = PilResize.bicubic(img, outW, outH, left, top, cw, ch);
            RasterImage rowByRow = PilResize.bicubic(rowByRow(img), outW, outH, left, top, cw, ch);
            assertThat(rowByRow.mode()).as(what).isEqualTo(mode);
            assertThat(new int[] {rowByRow.width(), rowByRow.height()}).as(what).containsExactly(cw, ch);
            assertThat(rowByRow.samples()).as(what).isEqualTo(inPlace.samples());
            assertThat(img.samples()).as(what + ": the source is not written").isEqualTo(px);
        }
    }

    /** {@code img} as a decoder's rows: each copied into the scratch row, which is then scribbled on by the next. */
    static PilResize.Source rowByRow(RasterImage img) {
        int n = img.width() * img.mode().bands;
        return PilResize.Source.ofRows(img.mode(), img.width(), img.height(), (y, scratch) -> {
            assertThat(scratch).hasSizeGreaterThanOrEqualTo(n);
            System.arraycopy(img.samples(), y * n, scratch, 0, n);
        });
    }

    /** Pillow 9.4's ImagingResample for L and RGB, loop for loop: the oracle. */
    static RasterImage plainPillow(RasterImage in, int outW, int outH) {
        int bands = in.mode().bands, w = in.width(), h = in.height(), bits = 22;
        byte[] src = in.samples();
        if (outW != w) {
            int[][] c = coefficients(w, outW);
            byte[] dst = new byte[outW * h * bands];
            for (int y = 0; y < h; y++) {
                for (int xx = 0; xx < outW; xx++) {
                    for (int b = 0; b < bands; b++) {
                        int ss = 1 << (bits - 1);
                        for (int x = 0; x < c[xx].length - 1; x++) ss += (src[(y * w + c[xx][0] + x) * bands + b] & 0xFF) * c[xx][x + 1];
                        dst[(y * outW + xx) * bands + b] = (byte) Math.max(0, Math.min(255, ss >> bits));
                    }
                }
            }
            src = dst;
            w = outW;
        }
        if (outH != h) {
            int[][] c = coefficients(h, outH);
            byte[] dst = new byte[w * outH * bands];
            for (int yy = 0; yy < outH; yy++) {
                for (int i = 0; i < w * bands; i++) {
                    int ss = 1 << (bits - 1);
                    for (int y = 0; y < c[yy].length - 1; y++) ss += (src[(c[yy][0] + y) * w * bands + i] & 0xFF) * c[yy][y + 1];
                    dst[yy * w * bands + i] = (byte) Math.max(0, Math.min(255, ss >> bits));
                }
            }
            src = dst;
        }
        return new RasterImage(in.mode(), outW, outH, src, null);
    }

    /** Per output index: {xmin, fixed-point weights...} (Pillow's precompute_coeffs, bicubic a = -0.5). */
    static int[][] coefficients(int inSize, int outSize) {
        double scale = (double) inSize / outSize, filterscale = Math.max(scale, 1.0), support = 2.0 * filterscale;
        int[][] out = new int[outSize][];
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale, ww = 0;
            int xmin = Math.max(0, (int) (center - support + 0.5)), xmax = Math.min(inSize, (int) (center + support + 0.5)) - xmin;
            double[] k = new double[xmax];
            for (int x = 0; x < xmax; x++) {
                double d = Math.abs((x + xmin - center + 0.5) / filterscale);
                k[x] = d < 1 ? (1.5 * d - 2.5) * d * d + 1 : d < 2 ? (((d - 5) * d + 8) * d - 4) * -0.5 : 0;
                ww += k[x];
            }
            out[xx] = new int[xmax + 1];
            out[xx][0] = xmin;
            for (int x = 0; x < xmax; x++) {
                double wt = ww != 0 ? k[x] / ww : k[x];
                out[xx][x + 1] = wt < 0 ? (int) (-0.5 + wt * (1 << 22)) : (int) (0.5 + wt * (1 << 22));
            }
        }
        return out;
    }

    /** Pillow's clip8 as its C code reads (ImagingResample: two branches, then the shift). */
    private static int pillowClip8(int v) {
        if (v >= (1 << 22 << 8)) return 255;
        if (v <= 0) return 0;
        return v >> 22;
    }

    @Test
    void clip8IsPillowsAtEveryEdgeAndOnRandomSums() {
        // checked once for all 2^32 ints; here every step's edges, the ends of int, and a million random sums
        for (long step = -300; step <= 300; step++) {
            for (long v = step * (1 << 22) - 2; v <= step * (1 << 22) + 2; v++) {
                if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) continue;
                assertThat(PilResize.clip8((int) v)).as("v = %d", v).isEqualTo(pillowClip8((int) v));
            }
        }
        for (int v : new int[] {Integer.MIN_VALUE, Integer.MIN_VALUE + 1, -1, 0, 1, Integer.MAX_VALUE - 1, Integer.MAX_VALUE}) {
            assertThat(PilResize.clip8(v)).as("v = %d", v).isEqualTo(pillowClip8(v));
        }
        SplittableRandom r = new SplittableRandom(8);
        for (int i = 0; i < 1_000_000; i++) {
            int v = r.nextInt();
            assertThat(PilResize.clip8(v)).isEqualTo(pillowClip8(v));
        }
    }
}
