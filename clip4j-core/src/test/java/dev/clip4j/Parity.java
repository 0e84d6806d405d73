package dev.clip4j;

import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/** The parity measure of the issues: max |actual - expected| / max |expected|. */
public final class Parity {
    private Parity() {}

    /** The same over float arrays: the largest difference relative to the largest element of {@code expected}. */
    public static double relativeError(float[] a, float[] e) {
        assertThat(a).hasSameSizeAs(e);
        double maxDiff = 0, maxAbs = 0;
        for (int i = 0; i < e.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs((double) a[i] - e[i]));
            maxAbs = Math.max(maxAbs, Math.abs(e[i]));
        }
        return maxAbs == 0 ? maxDiff : maxDiff / maxAbs;
    }

    public static double relativeError(Tensor actual, Tensor expected) {
        assertThat(Tensors.shape(actual)).as("shape").containsExactly(Tensors.shape(expected));
        return relativeError(Tensors.toFloats(actual), Tensors.toFloats(expected));
    }

    /** The same in float64, for float64 computations whose rounding lies far below float32's. */
    public static double relativeErrorF64(Tensor actual, Tensor expected) {
        assertThat(Tensors.shape(actual)).as("shape").containsExactly(Tensors.shape(expected));
        double[] a = Tensors.toDoubles(actual), e = Tensors.toDoubles(expected);
        double maxDiff = 0, maxAbs = 0;
        for (int i = 0; i < e.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(a[i] - e[i]));
            maxAbs = Math.max(maxAbs, Math.abs(e[i]));
        }
        return maxAbs == 0 ? maxDiff : maxDiff / maxAbs;
    }

    public static void assertClose(String what, Tensor actual, Tensor expected, double tolerance) {
        double err = relativeError(actual, expected);
        assertThat(err).as("%s relative error (shape %s)", what, Arrays.toString(Tensors.shape(expected)))
                .isLessThanOrEqualTo(tolerance);
    }

    /** Bit-identical arrays; on failure names the first differing element (AssertJ's array diff is quadratic on 1M floats). */
    public static void assertBitIdentical(String what, float[] actual, float[] expected) {
        if (actual.length != expected.length) {
            throw new AssertionError(what + ": length " + actual.length + ", expected " + expected.length);
        }
        for (int i = 0; i < actual.length; i++) {
            if (Float.floatToRawIntBits(actual[i]) != Float.floatToRawIntBits(expected[i])) {
                throw new AssertionError(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i]);
            }
        }
    }
}
