package dev.clip4j.image;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Pillow's horizontal resize pass ({@link PilResize}) through the JDK's Vector API, byte for byte the same: each row's
 * samples de-interleaved into one int plane per band, and each output sample one dot product of whole vectors with
 * its weights, padded with zeros to a whole number of vectors. The plain-Java pass runs three sums over interleaved
 * samples, a loop JDK 17's compiler does not vectorise; this one ran 1.5× (500 px wide) to 2.2× (3500 px) faster
 * (bench/HorizontalPassBench.java). Integer sums wrap the same in any order, so the result cannot differ.
 *
 * <p>jdk.incubator.vector is an incubator module in Java 17: this class is loaded only where the JVM resolved it
 * ({@link PilResize#VECTOR_PASS}).
 */
final class VectorHorizontalPass {
    /**
     * 256-bit vectors where the CPU has them for ints (AVX2 and AVX-512 alike): 512-bit ones measured no faster on
     * Zen 5, pad short kernels further, and may lower the clock of some Xeons. Without AVX2 the preferred shape is
     * 128 bits, which SSE4 and AVX compile (1.4-2.1x the plain pass under -XX:UseAVX=0 or 1), where 256-bit int
     * vectors would not be (9x slower).
     */
    private static final VectorSpecies<Integer> SPECIES = IntVector.SPECIES_PREFERRED.vectorBitSize() >= 256
            ? IntVector.SPECIES_256 : IntVector.SPECIES_PREFERRED;

    private VectorHorizontalPass() {}

    /**
     * Columns [left, left + cw) of the horizontal resize of {@code in}'s rows [rowFrom, rowFrom + rows), with Pillow's
     * per-output first source column and count ({@code bounds}) and {@code ksize}-strided fixed-point weights.
     */
    static byte[] run(PilResize.Source in, int[] bounds, int[] weights, int ksize, int left, int cw, int rowFrom, int rows) {
        int bands = in.mode.bands, lanes = SPECIES.length();
        // the source columns the window reads: first and last column are monotone in the output column
        int colFrom = bounds[left * 2];
        int colTo = bounds[(left + cw - 1) * 2] + bounds[(left + cw - 1) * 2 + 1];
        int cols = colTo - colFrom;
        int stride = (ksize + lanes - 1) / lanes * lanes;
        int[] k = new int[cw * stride];
        int[] first = new int[cw];
        for (int xx = 0; xx < cw; xx++) {
            System.arraycopy(weights, (left + xx) * ksize, k, xx * stride, bounds[(left + xx) * 2 + 1]);
            first[xx] = bounds[(left + xx) * 2] - colFrom;
        }
        // a window's last vector reads up to lanes - 1 samples past its end, each times a zero weight
        int[][] planes = new int[bands][cols + lanes];
        byte[] dst = new byte[cw * rows * bands], scratch = in.image != null ? null : new byte[in.width * bands];
        for (int y = 0; y < rows; y++) {
            byte[] src = in.row(rowFrom + y, scratch);
            deinterleave(src, in.offset(rowFrom + y) + colFrom * bands, cols, planes);
            int out = y * cw * bands;
            for (int xx = 0; xx < cw; xx++) {
                int from = first[xx], to = from + bounds[(left + xx) * 2 + 1], ko = xx * stride - from;
                if (bands == 3) {
                    int[] p0 = planes[0], p1 = planes[1], p2 = planes[2];
                    IntVector s0 = IntVector.zero(SPECIES), s1 = s0, s2 = s0;
                    for (int x = from; x < to; x += lanes) {
                        IntVector wt = IntVector.fromArray(SPECIES, k, ko + x);
                        s0 = s0.add(IntVector.fromArray(SPECIES, p0, x).mul(wt));
                        s1 = s1.add(IntVector.fromArray(SPECIES, p1, x).mul(wt));
                        s2 = s2.add(IntVector.fromArray(SPECIES, p2, x).mul(wt));
                    }
                    dst[out++] = sample(s0);
                    dst[out++] = sample(s1);
                    dst[out++] = sample(s2);
                } else {
                    for (int b = 0; b < bands; b++) {
                        int[] p = planes[b];
                        IntVector s = IntVector.zero(SPECIES);
                        for (int x = from; x < to; x += lanes) {
                            s = s.add(IntVector.fromArray(SPECIES, p, x).mul(IntVector.fromArray(SPECIES, k, ko + x)));
                        }
                        dst[out++] = sample(s);
                    }
                }
            }
        }
        return dst;
    }

    private static byte sample(IntVector sum) {
        return (byte) PilResize.clip8(PilResize.ROUNDING + sum.reduceLanes(VectorOperators.ADD));
    }

    /** {@code cols} interleaved pixels of {@code src} from {@code offset}, one band to a plane, as unsigned ints. */
    private static void deinterleave(byte[] src, int offset, int cols, int[][] planes) {
        int bands = planes.length;
        if (bands == 3) {
            int[] p0 = planes[0], p1 = planes[1], p2 = planes[2];
            for (int x = 0, p = offset; x < cols; x++, p += 3) {
                p0[x] = src[p] & 0xFF;
                p1[x] = src[p + 1] & 0xFF;
                p2[x] = src[p + 2] & 0xFF;
            }
        } else {
            for (int b = 0; b < bands; b++) {
                int[] plane = planes[b];
                for (int x = 0, p = offset + b; x < cols; x++, p += bands) plane[x] = src[p] & 0xFF;
            }
        }
    }
}
