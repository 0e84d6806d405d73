package dev.clip4j.torch;

import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The int8 linear layer against float32 {@code linear}, within {@link QuantizationError}'s prediction. */
class QuantizedLinearTest {
    private static final long M = 400, K = 768, N = 1024;

    private static void assertTracksFloat32(boolean reduceRange) {
        try (Scope s = Scope.open()) {
            Torch.manualSeed(7);
            Tensor x = Tensors.randn(M, K), w = Ops.mul(Tensors.randn(N, K), 0.03), b = Ops.mul(Tensors.randn(N), 0.1);
            QuantizedLinear q = QuantizedLinear.pack(w, b, reduceRange);
            Tensor expected = NN.linear(x, w, null); // the bias is exact in both: compare the products
            double err = QuantizationError.relativeRms(q.forward(x).sub(b), expected);
            double p = QuantizationError.predicted(x, w, reduceRange);
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
            assertThat(QuantizationError.relativeRms(y, NN.linear(x, w, null))).isLessThan(0.05).isGreaterThan(0);
            assertThatThrownBy(() -> q.forward(Tensors.randn(2, 63))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("63 features");
        }
    }

    /** A released layer (its tower handed to ONNX Runtime) frees its numbers, plain or packed, and then refuses. */
    @Test
    void releasedLayersFreeTheirNumbersAndRefuse() {
        try (Scope s = Scope.open()) {
            Torch.manualSeed(4);
            Tensor x = Tensors.randn(2, 64), w = Ops.mul(Tensors.randn(96, 64), 0.1);
            QuantizedLinear plain = QuantizedLinear.pack(w, Tensors.randn(96)), packed = QuantizedLinear.pack(w, null);
            QuantizedLinear.Weights lent = plain.weights(); // handles over the plain numbers, as a graph takes them
            packed.forward(x); // FBGEMM's packing made, the plain numbers dropped
            plain.release();
            packed.release();
            // the memory is gone under every handle (shapes stay: a handle must not be read after a release)
            assertThat(lent.values().storage().nbytes()).isZero();
            assertThat(lent.bias().storage().nbytes()).isZero();
            for (QuantizedLinear q : new QuantizedLinear[] {plain, packed}) {
                assertThatThrownBy(() -> q.forward(x)).hasMessageContaining("int8 layer's weights were released");
                assertThatThrownBy(q::weights).hasMessageContaining("int8 layer's weights were released");
            }
        }
    }

    /**
     * The plain numbers a layer keeps until libtorch packs them, and the same numbers unpacked from FBGEMM's packing
     * afterwards (what ONNX Runtime reads): int8 values transposed [in, out], scales, bias.
     */
    @Test
    void weightsSurviveFbgemmPacking() {
        try (Scope s = Scope.open()) {
            Torch.manualSeed(5);
            Tensor w = Ops.mul(Tensors.randn(48, 32), 0.1), b = Tensors.randn(48);
            QuantizedLinear q = QuantizedLinear.pack(w, b);
            QuantizedLinear.Weights plain = q.weights();
            Tensor expected = QuantizedLinear.quantizePerChannel(w);
            assertThat(Tensors.shape(plain.values())).containsExactly(32, 48);
            assertThat(Tensors.toFloats(plain.values().t())).containsExactly(Tensors.toFloats(expected.int_repr()));
            assertThat(Tensors.toFloats(plain.scales())).containsExactly(Tensors.toFloats(expected.q_per_channel_scales()));
            assertThat(Tensors.toFloats(plain.bias())).containsExactly(Tensors.toFloats(b));
            q.forward(Tensors.randn(5, 32)); // packs for FBGEMM and drops the plain copy
            QuantizedLinear.Weights unpacked = q.weights();
            assertThat(Tensors.toFloats(unpacked.values())).containsExactly(Tensors.toFloats(plain.values()));
            assertThat(Tensors.toFloats(unpacked.scales())).containsExactly(Tensors.toFloats(plain.scales()));
            assertThat(Tensors.toFloats(unpacked.bias())).containsExactly(Tensors.toFloats(b));
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

    /**
     * The values {@code pack} computes in whole tensors are libtorch's own quantization's, bit for bit: random rows of
     * every magnitude (float32's smallest normal to 1e30), a row of zeros, rows of ties (elements at exact halves of
     * their step, and the row's largest at 127.5 steps), and a million more random elements.
     */
    @Test
    void valuesAreQuantizePerChannelsBitForBit() {
        try (Scope s = Scope.open()) {
            java.util.SplittableRandom r = new java.util.SplittableRandom(13);
            int rows = 1400, cols = 768;
            float[] v = new float[rows * cols];
            for (int i = 0; i < rows; i++) {
                double magnitude = Math.pow(10, -37 + 67.0 * i / rows);
                for (int j = 0; j < cols; j++) {
                    float x = (float) (r.nextGaussian() * magnitude);
                    if (i % 7 == 0) x = (float) ((r.nextInt(511) - 255) * 0.5 * magnitude); // halves of a step
                    if (i == rows - 1) x = 0f;
                    v[i * cols + j] = x;
                }
            }
            Tensor w = Tensors.fromFloats(v, rows, cols);
            Tensor libtorchs = QuantizedLinear.quantizePerChannel(w);
            Tensor expected = libtorchs.int_repr();
            Tensor scales = Tensors.to(libtorchs.q_per_channel_scales(), DType.F32);
            assertThat(Tensors.toBytes(QuantizedLinear.perChannelValues(w, scales).contiguous()))
                    .isEqualTo(Tensors.toBytes(expected.contiguous()));
            // and through pack, transposed as ONNX's MatMul reads it
            QuantizedLinear.Weights packed = QuantizedLinear.pack(w, null).weights();
            assertThat(Tensors.toBytes(packed.values())).isEqualTo(Tensors.toBytes(expected.t().contiguous()));
            assertThat(Tensors.toFloats(packed.scales())).containsExactly(Tensors.toFloats(scales));
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
