package dev.clip4j.torch;

import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link Tensors#allFinite}, the check every loaded weight passes: a single NaN or infinity anywhere, in any float type. */
class AllFiniteTest {
    @Test
    void oneNonFiniteElementAnywhereIsFound() {
        SplittableRandom rng = new SplittableRandom(3);
        float[] bad = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        for (DType type : new DType[] {DType.F32, DType.F64, DType.BF16, DType.F16}) {
            for (int t = 0; t < 30; t++) {
                int n = 1 + rng.nextInt(5000);
                float[] v = new float[n];
                // each type's largest finite value is finite (float32's own would round up to infinity in bf16)
                float big = type == DType.F16 ? 65504f : type == DType.BF16 ? 3.3895314e38f : Float.MAX_VALUE;
                for (int i = 0; i < n; i++) v[i] = rng.nextInt(10) == 0 ? (rng.nextBoolean() ? big : -big) : (float) rng.nextGaussian();
                Tensor ok = Tensors.to(Tensors.fromFloats(v, n), type);
                assertThat(Tensors.allFinite(ok)).as(type + " finite, n=" + n).isTrue();
                int at = rng.nextInt(n);
                v[at] = bad[t % bad.length];
                Tensor withBad = Tensors.to(Tensors.fromFloats(v, n), type);
                assertThat(Tensors.allFinite(withBad)).as(type + " " + v[at] + " at " + at + " of " + n).isFalse();
                // and as a strided view (a transposed weight)
                if (n >= 4 && n % 2 == 0) assertThat(Tensors.allFinite(withBad.reshape(2, n / 2).t())).isFalse();
            }
        }
        assertThat(Tensors.allFinite(Tensors.zeros(DType.F32, 0))).isTrue();
        assertThat(Tensors.allFinite(Tensors.fromLongs(new long[] {1, 2}, 2))).isTrue();
    }
}
