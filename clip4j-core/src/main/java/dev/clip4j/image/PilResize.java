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
    /** Where each fixed-point sum starts: a half, so that the final shift rounds. */
    static final int ROUNDING = 1 << (PRECISION_BITS - 1);
    private static final double BICUBIC_SUPPORT = 2.0;
    /**
     * Whether the horizontal pass runs through the JDK's Vector API ({@link VectorHorizontalPass}, about twice as fast
     * on photos): only where the JVM resolved the incubator module jdk.incubator.vector (the launcher adds it; Java
     * API users add {@code --add-modules jdk.incubator.vector}) and C2 compiles it, unless
     * {@code -Dclip4j.vectorResize=false}. Both passes give the same bytes.
     */
    static final boolean VECTOR_PASS = !"false".equals(System.getProperty("clip4j.vectorResize"))
            && ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent() && optimizingCompiler();
    /** Whether the vertical pass runs through the Vector API too ({@link VectorVerticalPass}: 256-bit int vectors). */
    static final boolean VECTOR_VERTICAL_PASS = VECTOR_PASS && VectorVerticalPass.supported();
    /**
     * How many images a JVM resizes with the plain passes before the Vector API's take over. Until C2 has compiled a
     * Vector API pass, each of its operations runs as a new object (a 500-photo folder allocated ~1 GB of them in its
     * first second), so a command that resizes a few photos was faster without it: a one-photo {@code embed --image}
     * took 1.56-1.90 s against 2.18-2.62 s (bench/RESULTS.md). A folder pays that warm-up once either way, after its
     * first batch.
     */
    static final int PLAIN_FIRST = 32;
    private static final java.util.concurrent.atomic.AtomicLong RESIZED = new java.util.concurrent.atomic.AtomicLong();

    /** Whether the {@code n}th image this JVM resizes (from 1) takes the Vector API passes (where they are on). */
    static boolean vectorPassesFor(long n) {
        return VECTOR_PASS && n > PLAIN_FIRST;
    }

    /**
     * Whether HotSpot's C2 compiles this JVM's hot code: the Vector API becomes vector instructions only there, and
     * under the interpreter or C1 alone ({@code -Xint}, {@code -XX:TieredStopAtLevel=1}, as some set for a quick
     * start) it ran 26x slower than the plain pass. Read from the VM's effective options (however they were set).
     */
    private static boolean optimizingCompiler() {
        try {
            var vm = java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            return vm != null && Boolean.parseBoolean(vm.getVMOption("UseCompiler").getValue())
                    && Integer.parseInt(vm.getVMOption("TieredStopAtLevel").getValue()) >= 4;
        } catch (RuntimeException | LinkageError e) { // not HotSpot, or no jdk.management in a trimmed runtime
            return false;
        }
    }

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
        return bicubic(Source.of(in), outW, outH, left, top, cw, ch);
    }

    /** As {@link #bicubic(RasterImage, int, int, int, int, int, int)}, reading the image a row at a time. */
    static RasterImage bicubic(Source in, int outW, int outH, int left, int top, int cw, int ch) {
        if (outW <= 0 || outH <= 0) throw new IllegalArgumentException("target size must be positive");
        if (left < 0 || top < 0 || cw <= 0 || ch <= 0 || left + cw > outW || top + ch > outH) {
            throw new IllegalArgumentException("crop window outside the resized image");
        }
        if (outW == in.width && outH == in.height) { // PIL returns a copy
            return cw == outW && ch == outH && in.image != null ? in.image : crop(in, left, top, cw, ch);
        }
        return switch (in.mode) {
            // palettes are decoded by ImageIO, into the heap: a palette image is always read in place
            case P -> ClipPreprocessor.crop(nearest(java.util.Objects.requireNonNull(in.image), outW, outH), left, top, cw, ch);
            case L, RGB -> resample(in, outW, outH, left, top, cw, ch);
            case LA, RGBA -> unpremultiply(resample(premultiplied(in), outW, outH, left, top, cw, ch));
        };
    }

    /**
     * An 8-bit image as the resize reads it, a row at a time: a heap image's array in place, or rows a {@link RowReader}
     * copies out of native memory into a scratch row, so that the full-size pixels of a photo that is only to be
     * resized never need to be in the Java heap (OpenCV's path: {@link ImageDecoder#decodeThen}).
     *
     * <p>One final class, not a subclass per kind of source: a photo folder mixes small photos read whole with large
     * ones read by rows, and a virtual {@code row} call with two receivers sent the compiled resize passes back to the
     * interpreter and C2 recompiling them each time the other kind came (5 class-check deoptimisations of
     * {@link VectorHorizontalPass} in a 500-photo run).
     */
    static final class Source {
        final PixelMode mode;
        final int width, height;
        /** The whole image when it is in the heap, else null. */
        final RasterImage image;
        /** Where the rows come from when {@link #image} is null. */
        private final RowReader reader;

        /** Fills {@code scratch} with row {@code y}'s {@code width × bands} samples. */
        interface RowReader {
            void read(int y, byte[] scratch);
        }

        private Source(PixelMode mode, int width, int height, RasterImage image, RowReader reader) {
            this.mode = mode;
            this.width = width;
            this.height = height;
            this.image = image;
            this.reader = reader;
        }

        /** An image whose rows {@code reader} gives, one at a time. */
        static Source ofRows(PixelMode mode, int width, int height, RowReader reader) {
            return new Source(mode, width, height, null, java.util.Objects.requireNonNull(reader));
        }

        static Source of(RasterImage in) {
            return new Source(in.mode(), in.width(), in.height(), in, null);
        }

        /**
         * The array holding row {@code y}'s {@code width × bands} samples from {@link #offset}: the image's own (not
         * to be written) or {@code scratch}, filled.
         */
        byte[] row(int y, byte[] scratch) {
            if (image != null) return image.samples();
            reader.read(y, scratch);
            return scratch;
        }

        /** Where row {@code y} starts in the array {@link #row} gives. */
        int offset(int y) {
            return image != null ? y * width * mode.bands : 0;
        }
    }

    /** The {@code cw × ch} region at ({@code left}, {@code top}) of {@code in}. */
    private static RasterImage crop(Source in, int left, int top, int cw, int ch) {
        if (in.image != null) return ClipPreprocessor.crop(in.image, left, top, cw, ch);
        return new RasterImage(in.mode, cw, ch, columns(in, left, cw, top, ch), null);
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

    /**
     * Pillow's clip8: 255 from 255.0 up, 0 at or below 0, else the integer part. Written without branches, the same for
     * every int (v >= 2^30 shifts to 256 or more, v <= 0 to 0 or below): an overshoot past either end is rare, and the
     * compiled resize passes were sent back to the interpreter by the first one they met (7 deoptimisations in a
     * 500-photo run).
     */
    static int clip8(int v) {
        return Math.max(0, Math.min(255, v >> PRECISION_BITS));
    }

    /**
     * Pillow's two passes, horizontal first into an 8-bit intermediate, restricted to the window: the horizontal pass
     * computes only the window's columns, on only the rows the vertical pass reads (Pillow's own row box), and the
     * vertical pass only the window's rows. Integer sums, so the order of the terms cannot change a result.
     */
    private static RasterImage resample(Source in, int outW, int outH, int left, int top, int cw, int ch) {
        int bands = in.mode.bands;
        int w = in.width, h = in.height;
        boolean horizontal = outW != w, vertical = outH != h;
        Coefficients cv = vertical ? coefficients(h, outH) : null;
        // the source rows the output window needs
        int rowFrom = vertical ? cv.bounds[top * 2] : top;
        int rowTo = vertical ? cv.bounds[(top + ch - 1) * 2] + cv.bounds[(top + ch - 1) * 2 + 1] : top + ch;
        int rows = rowTo - rowFrom;
        boolean vector = vectorPassesFor(RESIZED.incrementAndGet());
        // the window's columns of those rows, resized horizontally or (same width) as they are
        byte[] mid = horizontal ? horizontalPass(in, coefficients(w, outW), left, cw, rowFrom, rows, vector)
                : columns(in, left, cw, rowFrom, rows);
        if (!vertical) return new RasterImage(in.mode, cw, ch, mid, null); // rows [top, top + ch) exactly
        byte[] dst = new byte[cw * ch * bands];
        verticalPass(mid, cw, bands, cv, top, ch, rowFrom, dst, vector && VECTOR_VERTICAL_PASS);
        return new RasterImage(in.mode, cw, ch, dst, null);
    }

    /** Columns [left, left + cw) of source rows [rowFrom, rowFrom + rows), as they are. */
    private static byte[] columns(Source in, int left, int cw, int rowFrom, int rows) {
        int bands = in.mode.bands;
        byte[] dst = new byte[cw * rows * bands], scratch = in.image != null ? null : new byte[in.width * bands];
        for (int y = 0; y < rows; y++) {
            byte[] row = in.row(rowFrom + y, scratch);
            System.arraycopy(row, in.offset(rowFrom + y) + left * bands, dst, y * cw * bands, cw * bands);
        }
        return dst;
    }

    /**
     * Columns [left, left + cw) of the horizontal resize of {@code in}'s rows [rowFrom, rowFrom + rows), through the
     * Vector API or in plain Java (tests run both).
     */
    static byte[] horizontalPass(Source in, int inW, int outW, int left, int cw, int rowFrom, int rows, boolean vector) {
        return horizontalPass(in, coefficients(inW, outW), left, cw, rowFrom, rows, vector);
    }

    private static byte[] horizontalPass(Source in, Coefficients c, int left, int cw, int rowFrom, int rows, boolean vector) {
        if (vector) return VectorHorizontalPass.run(in, c.bounds, c.weights, c.ksize, left, cw, rowFrom, rows);
        int bands = in.mode.bands;
        byte[] dst = new byte[cw * rows * bands], scratch = in.image != null ? null : new byte[in.width * bands];
        int[] k = c.weights;
        final int half = ROUNDING;
        for (int y = 0; y < rows; y++) {
            byte[] src = in.row(rowFrom + y, scratch);
            int row = in.offset(rowFrom + y), out = y * cw * bands;
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
     * Output rows [top, top + ch) of the vertical resize of {@code src} ({@code cw} samples wide, its first row source
     * row {@code rowOffset}), into {@code dst}: each output row accumulated row by row over contiguous samples, not
     * column by column as Pillow's C loop runs; through the Vector API or in plain Java (tests run both).
     */
    static void verticalPass(byte[] src, int cw, int bands, int inH, int outH, int top, int ch, int rowOffset, byte[] dst, boolean vector) {
        verticalPass(src, cw, bands, coefficients(inH, outH), top, ch, rowOffset, dst, vector);
    }

    private static void verticalPass(byte[] src, int cw, int bands, Coefficients c, int top, int ch, int rowOffset, byte[] dst,
                                     boolean vector) {
        int n = cw * bands;
        if (vector) {
            VectorVerticalPass.run(src, n, c.bounds, c.weights, c.ksize, top, ch, rowOffset, dst, ROUNDING, PRECISION_BITS);
            return;
        }
        int[] acc = new int[n];
        final int half = ROUNDING;
        for (int yy = 0; yy < ch; yy++) {
            int ymin = c.bounds[(top + yy) * 2], ymax = c.bounds[(top + yy) * 2 + 1], koff = (top + yy) * c.ksize;
            java.util.Arrays.fill(acc, half);
            for (int y = 0; y < ymax; y++) {
                int wt = c.weights[koff + y], row = (ymin + y - rowOffset) * n;
                for (int i = 0; i < n; i++) acc[i] += (src[row + i] & 0xFF) * wt;
            }
            int out = yy * n;
            for (int i = 0; i < n; i++) dst[out + i] = (byte) clip8(acc[i]);
        }
    }

    /**
     * PIL's RGBA -> RGBa (and LA -> La), each row as it is read: colour times alpha / 255 with PIL's rounding
     * (MULDIV255).
     */
    private static Source premultiplied(Source in) {
        int bands = in.mode.bands, n = in.width * bands;
        return Source.ofRows(in.mode, in.width, in.height, (y, scratch) -> {
            byte[] s = in.row(y, scratch);
            if (s != scratch) System.arraycopy(s, in.offset(y), scratch, 0, n);
            for (int p = 0; p < n; p += bands) {
                int a = scratch[p + bands - 1] & 0xFF;
                for (int b = 0; b < bands - 1; b++) {
                    int t = (scratch[p + b] & 0xFF) * a + 128;
                    scratch[p + b] = (byte) (((t >> 8) + t) >> 8);
                }
            }
        });
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
