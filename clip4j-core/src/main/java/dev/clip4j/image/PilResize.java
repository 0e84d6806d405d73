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
        if (outW <= 0 || outH <= 0) throw new IllegalArgumentException("target size must be positive");
        if (outW == in.width() && outH == in.height()) return in; // PIL returns a copy
        return switch (in.mode()) {
            case P -> nearest(in, outW, outH);
            case L, RGB -> resample(in, outW, outH);
            case LA, RGBA -> unpremultiply(resample(premultiply(in), outW, outH));
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

    private static RasterImage resample(RasterImage in, int outW, int outH) {
        int bands = in.mode().bands;
        byte[] src = in.samples();
        int w = in.width(), h = in.height();
        if (outW != w) {
            Coefficients c = coefficients(w, outW);
            byte[] dst = new byte[outW * h * bands];
            for (int y = 0; y < h; y++) {
                int row = y * w * bands;
                for (int xx = 0; xx < outW; xx++) {
                    int xmin = c.bounds[xx * 2], xmax = c.bounds[xx * 2 + 1], koff = xx * c.ksize;
                    for (int b = 0; b < bands; b++) {
                        int ss = 1 << (PRECISION_BITS - 1);
                        for (int x = 0; x < xmax; x++) ss += (src[row + (x + xmin) * bands + b] & 0xFF) * c.weights[koff + x];
                        dst[(y * outW + xx) * bands + b] = (byte) clip8(ss);
                    }
                }
            }
            src = dst;
            w = outW;
        }
        if (outH != h) {
            Coefficients c = coefficients(h, outH);
            byte[] dst = new byte[w * outH * bands];
            int stride = w * bands;
            for (int yy = 0; yy < outH; yy++) {
                int ymin = c.bounds[yy * 2], ymax = c.bounds[yy * 2 + 1], koff = yy * c.ksize;
                for (int i = 0; i < stride; i++) {
                    int ss = 1 << (PRECISION_BITS - 1);
                    for (int y = 0; y < ymax; y++) ss += (src[(y + ymin) * stride + i] & 0xFF) * c.weights[koff + y];
                    dst[yy * stride + i] = (byte) clip8(ss);
                }
            }
            src = dst;
        }
        return new RasterImage(in.mode(), outW, outH, src, in.palette());
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
