package dev.clip4j.image;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Pillow's vertical resize pass ({@link PilResize}) through the JDK's Vector API, byte for byte the same: each output
 * row accumulated over its source rows eight samples at a time (bytes widened to ints, times the row's fixed-point
 * weight), then shifted, clamped to 0..255 and narrowed back to bytes. JDK 17's compiler leaves the plain loop
 * (widening a byte to an int inside a multiply-add) scalar; this ran 4.5-5x faster on 224-column windows of 300 and
 * 1,000 source rows (one core of an AMX Xeon). Integer sums wrap the same in any order, so the result cannot differ.
 *
 * <p>Loaded only where the JVM resolved jdk.incubator.vector ({@link PilResize#VECTOR_PASS}); used with 256-bit int
 * vectors only (AVX2 and up), where eight bytes widen to one vector.
 */
final class VectorVerticalPass {
    private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_256;
    private static final VectorSpecies<Byte> BYTES = ByteVector.SPECIES_64;

    private VectorVerticalPass() {}

    /** Whether the CPU runs 256-bit int vectors (else the plain pass: 128-bit hardware would emulate them). */
    static boolean supported() {
        return IntVector.SPECIES_PREFERRED.vectorBitSize() >= 256;
    }

    /**
     * Output rows [top, top + ch) of the vertical resize of {@code src} ({@code n} samples a row, its first row source
     * row {@code rowOffset}), into {@code dst}, with Pillow's per-output first row and count ({@code bounds}),
     * {@code ksize}-strided fixed-point weights, rounding term {@code half} and {@code precision} fraction bits.
     */
    static void run(byte[] src, int n, int[] bounds, int[] weights, int ksize, int top, int ch, int rowOffset, byte[] dst,
                    int half, int precision) {
        int lanes = INTS.length(), whole = n - n % lanes;
        int[] acc = new int[n];
        IntVector zero = IntVector.zero(INTS), max = IntVector.broadcast(INTS, 255);
        for (int yy = 0; yy < ch; yy++) {
            int ymin = bounds[(top + yy) * 2], ymax = bounds[(top + yy) * 2 + 1], koff = (top + yy) * ksize;
            java.util.Arrays.fill(acc, half);
            for (int y = 0; y < ymax; y++) {
                int wt = weights[koff + y], row = (ymin + y - rowOffset) * n, i = 0;
                for (; i < whole; i += lanes) {
                    IntVector s = (IntVector) ByteVector.fromArray(BYTES, src, row + i).convertShape(VectorOperators.B2I, INTS, 0);
                    s.and(0xFF).mul(wt).add(IntVector.fromArray(INTS, acc, i)).intoArray(acc, i);
                }
                for (; i < n; i++) acc[i] += (src[row + i] & 0xFF) * wt;
            }
            int out = yy * n, i = 0;
            for (; i < whole; i += lanes) {
                IntVector v = IntVector.fromArray(INTS, acc, i).lanewise(VectorOperators.ASHR, precision).max(zero).min(max);
                ((ByteVector) v.convertShape(VectorOperators.I2B, BYTES, 0)).intoArray(dst, out + i);
            }
            for (; i < n; i++) dst[out + i] = (byte) PilResize.clip8(acc[i]);
        }
    }
}
