package dev.clip4j.torch;

import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The int8 linear layer against float32 {@code linear}. Its error is predicted from the two quantization steps: with
 * rounding errors uniform in ±step/2 (variance step²/12) and independent zero-mean x and w, the output's relative
 * RMS error² is s_x²/(12·E[x²]) + E_j[s_j²]/(12·E[w²]), where s_x = (max(x,0) − min(x,0))/255 (or /127 with 7-bit
 * activations) and s_j = max|w_j|/127.5. The measured error must fall within ±20 % of that prediction: well above,
 * and a kernel is wrong (or saturating); well below, and the stated quantization did not happen.
 */
class QuantizedLinearTest {
    private static final long M = 400, K = 768, N = 1024;

    private static double relativeRms(Tensor actual, Tensor expected) {
        return actual.sub(expected).norm().item_double() / expected.norm().item_double();
    }

    private static double predicted(Tensor x, Tensor w, boolean reduceRange) {
        double xMax = Math.max(0, x.max().item_double()), xMin = Math.min(0, x.min().item_double());
        double sx = (xMax - xMin) / (reduceRange ? 127 : 255);
        double ex2 = x.pow(new org.bytedeco.pytorch.Scalar(2.0)).mean().item_double();
        Tensor sw = Ops.div(w.abs().amax(new long[] {1}, false), 127.5);
        double esw2 = sw.pow(new org.bytedeco.pytorch.Scalar(2.0)).mean().item_double();
        double ew2 = w.pow(new org.bytedeco.pytorch.Scalar(2.0)).mean().item_double();
        return Math.sqrt(sx * sx / (12 * ex2) + esw2 / (12 * ew2));
    }

    private static void assertTracksFloat32(boolean reduceRange) {
        try (Scope s = Scope.open()) {
            Torch.manualSeed(7);
            Tensor x = Tensors.randn(M, K), w = Ops.mul(Tensors.randn(N, K), 0.03), b = Ops.mul(Tensors.randn(N), 0.1);
            QuantizedLinear q = QuantizedLinear.pack(w, b, reduceRange);
            Tensor expected = NN.linear(x, w, null); // the bias is exact in both: compare the products
            double err = relativeRms(q.forward(x).sub(b), expected);
            double p = predicted(x, w, reduceRange);
            assertThat(err).as("relative RMS error, %s-bit activations (predicted %.4f)", reduceRange ? 7 : 8, p)
                    .isBetween(0.8 * p, 1.2 * p);
        }
    }

    @Test
    void sevenBitActivationsTrackFloat32OnEveryCpu() {
        assertTracksFloat32(true);
    }

    /** 8-bit activations only where the CPU has VNNI: elsewhere FBGEMM's 16-bit pair sums may saturate, by design. */
    @Test
    void thisCpusChoiceTracksFloat32() {
        assertTracksFloat32(QuantizedLinear.reducedRange());
    }

    @Test
    void batchedInputsAndMissingBias() {
        try (Scope s = Scope.open()) {
            Torch.manualSeed(3);
            Tensor x = Tensors.randn(4, 50, 64), w = Ops.mul(Tensors.randn(96, 64), 0.1);
            QuantizedLinear q = QuantizedLinear.pack(w, null);
            Tensor y = q.forward(x);
            assertThat(Tensors.shape(y)).containsExactly(4, 50, 96);
            // activations are quantized over the whole input, so [B, L, K] and [B*L, K] give the same numbers
            assertThat(Tensors.toFloats(y)).containsExactly(Tensors.toFloats(q.forward(x.reshape(200, 64))));
            assertThat(relativeRms(y, NN.linear(x, w, null))).isLessThan(0.05).isGreaterThan(0);
            assertThatThrownBy(() -> q.forward(Tensors.randn(2, 63))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("63 features");
        }
    }

    /** PyTorch's per-channel symmetric qint8 weights: round(w / (max|w_j| / 127.5)) clamped to [-128, 127]. */
    @Test
    void weightsQuantizePerOutputChannel() {
        try (Scope s = Scope.open()) {
            Tensor w = Tensors.fromFloats(new float[] {1f, -0.5f, 0.25f, 0f, 0.004f, -0.002f}, 2, 3);
            Tensor q = QuantizedLinear.quantizePerChannel(w);
            assertThat(Tensors.toFloats(Tensors.to(q.int_repr(), DType.F32)))
                    .containsExactly(127f, -64f, 32f, 0f, 127f, -64f); // the largest, 127.5 steps, clamps to 127
        }
    }

    @Test
    void sevenBitActivationsWhereTheCpuLacksVnni() {
        assertThat(QuantizedLinear.reducedRange(Set.of("avx2", "fma"))).isTrue();
        assertThat(QuantizedLinear.reducedRange(Set.of("avx2", "avx512f", "avx512bw"))).isTrue();
        assertThat(QuantizedLinear.reducedRange(Set.of("avx2", "avx512f", "avx512_vnni"))).isFalse();
        assertThat(QuantizedLinear.reducedRange(Set.of("avx2", "avx_vnni"))).isFalse();
    }
}
