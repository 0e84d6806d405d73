package dev.clip4j.image;

/**
 * PIL's (Pillow 9.4) resize of 8-bit images, bit-exact: the separable convolution of {@code ImagingResample}
 * with 22-bit fixed-point weights, horizontal pass first into an 8-bit intermediate, and premultiplied alpha
 * for RGBA/LA; palette images use nearest neighbour as PIL forces. Hand-written because Java's own scaling
 * (AWT, imgscalr, Thumbnailator) uses different kernels and rounding, and CLIP features depend on the exact
 * pixels.
 */
public final class PilResize {
    private static final int PRECISION_BITS = 32 - 8 - 2;
    private static final double BICUBIC_SUPPORT = 2.0;

    private PilResize() {}

    public static RasterImage bicubic(RasterImage in, int outW, int outH) {
        return bicubic(in, outW, outH, 0, 0, outW, outH);
    }

    /**
     * The {@code cw × ch} window at ({@code left}, {@code top}) of the {@code outW × outH} resize, computing only the
     * pixels the window needs: the same values as resizing in full and then cropping (each output sample depends on
     * its own coefficients alone), so {@code clip._transform}'s centre crop costs no work outside it.
     */
    public static RasterImage bicubic(RasterImage in, int outW, int outH, int left, int top, int cw, int ch) {
        if (outW <= 0 || outH <= 0) throw new IllegalArgumentException("target size must be positive");
        if (left < 0 || top < 0 || cw <= 0 || ch <= 0 || left + cw > outW || top + ch > outH) {
            throw new IllegalArgumentException("crop window outside the resized image");
        }
        if (outW == in.width() && outH == in.height()) { // PIL returns a copy
            return cw == outW && ch == outH ? in : ClipPreprocessor.crop(in, left, top, cw, ch);
        }
        return switch (in.mode()) {
            case P -> ClipPreprocessor.crop(nearest(in, outW, outH), left, top, cw, ch);
            case L, RGB -> resample(in, outW, outH, left, top, cw, ch);
            case LA, RGBA -> unpremultiply(resample(premultiply(in), outW, outH, left, top, cw, ch));
        };
    }

    /** Pillow's cubic kernel with a = -0.5. */
    private static double bicubicFilter(double x) {
        final double a = -0.5;
        x = Math.abs(x);
        if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    }

    /** Per output index: first source index, count, and fixed-point weights (Pillow's precompute_coeffs). */
    private record Coefficients(int[] bounds, int[] weights, int ksize) {}

    private static Coefficients coefficients(int inSize, int outSize) {
        double scale = (double) inSize / outSize;
        double filterscale = Math.max(scale, 1.0);
        double support = BICUBIC_SUPPORT * filterscale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        int[] bounds = new int[outSize * 2];
        int[] kk = new int[outSize * ksize];
        double[] k = new double[ksize];
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            double ww = 0.0;
            double ss = 1.0 / filterscale;
            int xmin = (int) (center - support + 0.5);
            if (xmin < 0) xmin = 0;
            int xmax = (int) (center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;
            for (int x = 0; x < xmax; x++) {
                double w = bicubicFilter((x + xmin - center + 0.5) * ss);
                k[x] = w;
                ww += w;
            }
            for (int x = 0; x < xmax; x++) {
                double w = ww != 0.0 ? k[x] / ww : k[x];
                kk[xx * ksize + x] = w < 0 ? (int) (-0.5 + w * (1 << PRECISION_BITS))
                        : (int) (0.5 + w * (1 << PRECISION_BITS));
            }
            bounds[xx * 2] = xmin;
            bounds[xx * 2 + 1] = xmax;
        }
        return new Coefficients(bounds, kk, ksize);
    }

    private static int clip8(int v) {
        if (v >= (1 << PRECISION_BITS << 8)) return 255;
        if (v <= 0) return 0;
        return v >> PRECISION_BITS;
    }

    /**
     * Pillow's two passes, horizontal first into an 8-bit intermediate, restricted to the window: the horizontal pass
     * computes only the window's columns, on only the rows the vertical pass reads (Pillow's own row box), and the
     * vertical pass only the window's rows. Integer sums, so the order of the terms cannot change a result.
     */
    private static RasterImage resample(RasterImage in, int outW, int outH, int left, int top, int cw, int ch) {
        int bands = in.mode().bands;
        byte[] src = in.samples();
        int w = in.width(), h = in.height();
        boolean horizontal = outW != w, vertical = outH != h;
        Coefficients cv = vertical ? coefficients(h, outH) : null;
        // the source rows the output window needs
        int rowFrom = vertical ? cv.bounds[top * 2] : top;
        int rowTo = vertical ? cv.bounds[(top + ch - 1) * 2] + cv.bounds[(top + ch - 1) * 2 + 1] : top + ch;
        int rows = rowTo - rowFrom;
        byte[] mid;
        int midW;
        if (horizontal) {
            mid = horizontalPass(src, w, bands, coefficients(w, outW), left, cw, rowFrom, rows);
            midW = cw;
        } else {
            mid = src; // the full width; the window's columns are taken below
            midW = w;
        }
        int colFrom = horizontal ? 0 : left;
        byte[] dst = new byte[cw * ch * bands];
        if (vertical) {
            verticalPass(mid, midW, bands, cv, top, ch, horizontal ? rowFrom : 0, colFrom, cw, dst);
        } else {
            for (int y = 0; y < ch; y++) {
                int from = horizontal ? y : top + y;
                System.arraycopy(mid, (from * midW + colFrom) * bands, dst, y * cw * bands, cw * bands);
            }
        }
        return new RasterImage(in.mode(), cw, ch, dst, in.palette());
    }

    /** Columns [left, left + cw) of the horizontal resize of source rows [rowFrom, rowFrom + rows). */
    private static byte[] horizontalPass(byte[] src, int w, int bands, Coefficients c, int left, int cw, int rowFrom, int rows) {
        byte[] dst = new byte[cw * rows * bands];
        int[] k = c.weights;
        final int half = 1 << (PRECISION_BITS - 1);
        for (int y = 0; y < rows; y++) {
            int row = (rowFrom + y) * w * bands, out = y * cw * bands;
            for (int xx = 0; xx < cw; xx++) {
                int xmin = c.bounds[(left + xx) * 2], xmax = c.bounds[(left + xx) * 2 + 1], koff = (left + xx) * c.ksize;
                int p = row + xmin * bands;
                if (bands == 3) {
                    int s0 = half, s1 = half, s2 = half;
                    for (int x = 0; x < xmax; x++, p += 3) {
                        int wt = k[koff + x];
                        s0 += (src[p] & 0xFF) * wt;
                        s1 += (src[p + 1] & 0xFF) * wt;
                        s2 += (src[p + 2] & 0xFF) * wt;
                    }
                    dst[out++] = (byte) clip8(s0);
                    dst[out++] = (byte) clip8(s1);
                    dst[out++] = (byte) clip8(s2);
                } else {
                    for (int b = 0; b < bands; b++) {
                        int ss = half;
                        for (int x = 0, q = p + b; x < xmax; x++, q += bands) ss += (src[q] & 0xFF) * k[koff + x];
                        dst[out++] = (byte) clip8(ss);
                    }
                }
            }
        }
        return dst;
    }

    /**
     * Output rows [top, top + ch) of the vertical resize, columns [colFrom, colFrom + cw) of {@code src} (whose first
     * row is source row {@code rowOffset}), into {@code dst}: each output row accumulated row by row over contiguous
     * samples (a loop the JIT vectorises), not column by column as Pillow's C loop runs.
     */
    private static void verticalPass(byte[] src, int srcW, int bands, Coefficients c, int top, int ch, int rowOffset,
                                     int colFrom, int cw, byte[] dst) {
        int n = cw * bands;
        int[] acc = new int[n];
        final int half = 1 << (PRECISION_BITS - 1);
        for (int yy = 0; yy < ch; yy++) {
            int ymin = c.bounds[(top + yy) * 2], ymax = c.bounds[(top + yy) * 2 + 1], koff = (top + yy) * c.ksize;
            java.util.Arrays.fill(acc, half);
            for (int y = 0; y < ymax; y++) {
                int wt = c.weights[koff + y], row = ((ymin + y - rowOffset) * srcW + colFrom) * bands;
                for (int i = 0; i < n; i++) acc[i] += (src[row + i] & 0xFF) * wt;
            }
            int out = yy * n;
            for (int i = 0; i < n; i++) dst[out + i] = (byte) clip8(acc[i]);
        }
    }

    /** PIL's RGBA -> RGBa (and LA -> La): colour times alpha / 255 with PIL's rounding (MULDIV255). */
    private static RasterImage premultiply(RasterImage in) {
        int bands = in.mode().bands;
        byte[] s = in.samples().clone();
        for (int p = 0; p < s.length; p += bands) {
            int a = s[p + bands - 1] & 0xFF;
            for (int b = 0; b < bands - 1; b++) {
                int t = (s[p + b] & 0xFF) * a + 128;
                s[p + b] = (byte) (((t >> 8) + t) >> 8);
            }
        }
        return new RasterImage(in.mode(), in.width(), in.height(), s, null);
    }

    /** PIL's RGBa -> RGBA: {@code min(255, 255 * c / a)} in integers; alpha 0 or 255 left as is. */
    private static RasterImage unpremultiply(RasterImage in) {
        int bands = in.mode().bands;
        byte[] s = in.samples();
        for (int p = 0; p < s.length; p += bands) {
            int a = s[p + bands - 1] & 0xFF;
            if (a == 0 || a == 255) continue;
            for (int b = 0; b < bands - 1; b++) s[p + b] = (byte) Math.min(255, (255 * (s[p + b] & 0xFF)) / a);
        }
        return in;
    }

    /** PIL's nearest-neighbour resize (affine transform sampling at pixel centres). */
    private static RasterImage nearest(RasterImage in, int outW, int outH) {
        int bands = in.mode().bands;
        double sx = (double) in.width() / outW, sy = (double) in.height() / outH;
        byte[] dst = new byte[outW * outH * bands];
        for (int y = 0; y < outH; y++) {
            int yin = Math.min(in.height() - 1, (int) ((y + 0.5) * sy));
            for (int x = 0; x < outW; x++) {
                int xin = Math.min(in.width() - 1, (int) ((x + 0.5) * sx));
                System.arraycopy(in.samples(), (yin * in.width() + xin) * bands, dst, (y * outW + x) * bands, bands);
            }
        }
        return new RasterImage(in.mode(), outW, outH, dst, in.palette());
    }
}
