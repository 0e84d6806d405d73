import jdk.incubator.vector.*;
import java.util.*;

/**
 * What the JDK's Vector API gives Pillow's horizontal resize pass (issue 13), standing alone (the project's form is
 * dev.clip4j.image.VectorHorizontalPass, with 256-bit vectors): the plain-Java pass as clip4j runs it (interleaved samples, three sums per output, a loop the JIT does not vectorise), the same on
 * de-interleaved int planes in plain Java, and on the planes with jdk.incubator.vector (an incubator module in Java
 * 17: every JVM that runs it needs --add-modules jdk.incubator.vector and prints a warning at start). One 3500 x 1950
 * RGB image of random samples, the 224 centre columns of its 224-pixel-high bicubic resize, all rows; integer sums, so
 * the three must agree byte for byte (checked). Pillow's coefficients as in PilResize (transcribed here so the bench
 * stands alone). Usage: taskset -c 0 java --add-modules jdk.incubator.vector bench/HorizontalPassBench.java
 */
public class HorizontalPassBench {
    static final int PB = 22;
    static int clip8(int v) { if (v >= (1 << PB << 8)) return 255; if (v <= 0) return 0; return v >> PB; }
    static double cubic(double x) { double a = -0.5; x = Math.abs(x); if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1; if (x < 2) return (((x - 5) * x + 8) * x - 4) * a; return 0; }
    static int[] bounds; static int[] kk; static int ksize;
    static void coeffs(int in, int out) {
        double scale = (double) in / out, fs = Math.max(scale, 1), support = 2 * fs;
        ksize = (int) Math.ceil(support) * 2 + 1; bounds = new int[out * 2]; kk = new int[out * ksize]; double[] k = new double[ksize];
        for (int xx = 0; xx < out; xx++) {
            double c = (xx + 0.5) * scale, ww = 0, ss = 1 / fs; int xmin = (int) (c - support + 0.5); if (xmin < 0) xmin = 0; int xmax = (int) (c + support + 0.5); if (xmax > in) xmax = in; xmax -= xmin;
            for (int x = 0; x < xmax; x++) { double w = cubic((x + xmin - c + 0.5) * ss); k[x] = w; ww += w; }
            for (int x = 0; x < xmax; x++) { double w = ww != 0 ? k[x] / ww : k[x]; kk[xx * ksize + x] = w < 0 ? (int) (-0.5 + w * (1 << PB)) : (int) (0.5 + w * (1 << PB)); }
            bounds[xx * 2] = xmin; bounds[xx * 2 + 1] = xmax;
        }
    }
    // (a) current: interleaved, 3 accumulators
    static void scalar(byte[] img, int w, int rows, int left, int cw, byte[] dst) {
        int half = 1 << (PB - 1);
        for (int y = 0; y < rows; y++) { int row = y * w * 3, out = y * cw * 3;
            for (int xx = 0; xx < cw; xx++) { int xmin = bounds[(left + xx) * 2], xmax = bounds[(left + xx) * 2 + 1], koff = (left + xx) * ksize; int p = row + xmin * 3;
                int s0 = half, s1 = half, s2 = half;
                for (int x = 0; x < xmax; x++, p += 3) { int wt = kk[koff + x]; s0 += (img[p] & 0xFF) * wt; s1 += (img[p + 1] & 0xFF) * wt; s2 += (img[p + 2] & 0xFF) * wt; }
                dst[out++] = (byte) clip8(s0); dst[out++] = (byte) clip8(s1); dst[out++] = (byte) clip8(s2); } }
    }
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED; // 512 bits with AVX-512, 256 with AVX2 only
    // (c) planes as int[], Vector API dot per band
    static void vec(byte[] img, int w, int rows, int left, int cw, byte[] dst) {
        int half = 1 << (PB - 1);
        int colFrom = bounds[left * 2], colTo = bounds[(left + cw - 1) * 2] + bounds[(left + cw - 1) * 2 + 1], cols = colTo - colFrom;
        int pad = I.length();
        int[][] pl = new int[3][cols + pad];
        // weights padded to a multiple of the lanes, zeros beyond xmax
        int kst = (ksize + pad - 1) / pad * pad; int[] kp = new int[cw * kst];
        for (int xx = 0; xx < cw; xx++) System.arraycopy(kk, (left + xx) * ksize, kp, xx * kst, bounds[(left + xx) * 2 + 1]);
        for (int y = 0; y < rows; y++) { int row = y * w * 3 + colFrom * 3, out = y * cw * 3;
            for (int x = 0, p = row; x < cols; x++, p += 3) { pl[0][x] = img[p] & 0xFF; pl[1][x] = img[p + 1] & 0xFF; pl[2][x] = img[p + 2] & 0xFF; }
            for (int xx = 0; xx < cw; xx++) { int xmin = bounds[(left + xx) * 2] - colFrom, xmax = bounds[(left + xx) * 2 + 1], ko = xx * kst;
                IntVector a0 = IntVector.zero(I), a1 = IntVector.zero(I), a2 = IntVector.zero(I);
                for (int x = 0; x < xmax; x += pad) {
                    IntVector k = IntVector.fromArray(I, kp, ko + x);
                    a0 = a0.add(IntVector.fromArray(I, pl[0], xmin + x).mul(k));
                    a1 = a1.add(IntVector.fromArray(I, pl[1], xmin + x).mul(k));
                    a2 = a2.add(IntVector.fromArray(I, pl[2], xmin + x).mul(k));
                }
                dst[out++] = (byte) clip8(half + a0.reduceLanes(VectorOperators.ADD)); dst[out++] = (byte) clip8(half + a1.reduceLanes(VectorOperators.ADD)); dst[out++] = (byte) clip8(half + a2.reduceLanes(VectorOperators.ADD)); } }
    }
    // (b) planes as int[], plain Java dot per band
    static void planes(byte[] img, int w, int rows, int left, int cw, byte[] dst) {
        int half = 1 << (PB - 1);
        int colFrom = bounds[left * 2], colTo = bounds[(left + cw - 1) * 2] + bounds[(left + cw - 1) * 2 + 1], cols = colTo - colFrom;
        int[] p0 = new int[cols], p1 = new int[cols], p2 = new int[cols];
        for (int y = 0; y < rows; y++) { int row = y * w * 3 + colFrom * 3, out = y * cw * 3;
            for (int x = 0, p = row; x < cols; x++, p += 3) { p0[x] = img[p] & 0xFF; p1[x] = img[p + 1] & 0xFF; p2[x] = img[p + 2] & 0xFF; }
            for (int xx = 0; xx < cw; xx++) { int xmin = bounds[(left + xx) * 2] - colFrom, xmax = bounds[(left + xx) * 2 + 1], koff = (left + xx) * ksize;
                int s0 = half, s1 = half, s2 = half;
                for (int x = 0; x < xmax; x++) { int wt = kk[koff + x]; s0 += p0[xmin + x] * wt; s1 += p1[xmin + x] * wt; s2 += p2[xmin + x] * wt; }
                dst[out++] = (byte) clip8(s0); dst[out++] = (byte) clip8(s1); dst[out++] = (byte) clip8(s2); } }
    }
    public static void main(String[] a) {
        int w = 3500, h = 1950, outW = w * 224 / h, cw = 224, left = (outW - cw) / 2;
        byte[] img = new byte[w * h * 3]; new SplittableRandom(1).nextBytes(img);
        coeffs(w, outW);
        byte[] d1 = new byte[cw * h * 3], d2 = new byte[cw * h * 3], d3 = new byte[cw * h * 3];
        for (int rep = 0; rep < 20; rep++) {
            long t0 = System.nanoTime(); scalar(img, w, h, left, cw, d1); long t1 = System.nanoTime(); vec(img, w, h, left, cw, d2); long t2 = System.nanoTime(); planes(img, w, h, left, cw, d3); long t3 = System.nanoTime();
            System.out.printf("scalar %.1f ms, vector %.1f ms, planes %.1f ms, equal %b %b%n", (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6, Arrays.equals(d1, d2), Arrays.equals(d1, d3));
        }
    }
}
