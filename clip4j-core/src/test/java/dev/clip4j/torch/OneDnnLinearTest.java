package dev.clip4j.torch;

import dev.clip4j.nn.Linear;
import dev.clip4j.nn.QuickGeluMlp;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * bf16 inference's oneDNN linear layers ({@link OneDnnLinear}): taken only without gradients and on CPUs with native
 * bf16 (elsewhere the plain path, bit for bit), within bf16 rounding of the plain path, and remade when the weights
 * change. Tolerances are relative to the largest output: one bf16 rounding of each output is 2^-8 of it, and the two
 * paths round at different places (bias and silu before or after the rounding of the product), so 2^-7 for a layer and
 * 2^-6 for the MLP's two layers with silu between.
 */
class OneDnnLinearTest {
    private static Tensor bf16(long... shape) {
        return Tensors.to(Tensors.randn(shape), DType.BF16);
    }

    /** {@link dev.clip4j.Parity#relativeError} of bf16 tensors, read as float32 (exactly). */
    private static double relativeError(Tensor actual, Tensor expected) {
        return dev.clip4j.Parity.relativeError(Tensors.to(actual, DType.F32), Tensors.to(expected, DType.F32));
    }

    private static float[] floats(Tensor t) {
        return Tensors.toFloats(Tensors.to(t, DType.F32));
    }

    private static Linear bf16Linear(int in, int out) {
        Linear l = new Linear(in, out);
        l.to(DType.BF16);
        l.train(false);
        return l;
    }

    @Test
    void aLayerMatchesThePlainPathAndRepacksNewWeights() {
        Torch.manualSeed(3);
        Linear layer = bf16Linear(64, 96);
        Tensor x = bf16(2, 5, 64);
        Grad.noGrad(() -> {
            boolean oneDnn = OneDnnLinear.applies(x);
            // on a CPU with native bf16 the fused path must be taken (its start-up self-test passes there), unless
            // oneDNN is held below that CPU's instructions (ONEDNN_MAX_CPU_ISA=AVX2, as when imitating a Zen 2): then
            // it refuses bf16 and the layer must fall back
            boolean nativeBf16 = CpuFlags.get().contains("amx_bf16") || CpuFlags.get().contains("avx512_bf16");
            boolean isaCapped = System.getenv("ONEDNN_MAX_CPU_ISA") != null || System.getenv("DNNL_MAX_CPU_ISA") != null;
            assertThat(oneDnn).as("oneDNN's linear on a CPU with native bf16").isEqualTo(nativeBf16 && !isaCapped);
            Tensor out = layer.forward(x), plain = NN.linear(x, layer.weight(), layer.bias());
            if (oneDnn) assertThat(relativeError(out, plain)).isLessThanOrEqualTo(0x1p-7);
            else assertThat(floats(out)).containsExactly(floats(plain));
            // new weights written in place (an optimizer step, a load): the next forward uses them
            Ops.mul_(layer.weight(), -2.0);
            Tensor after = layer.forward(x), plainAfter = NN.linear(x, layer.weight(), layer.bias());
            assertThat(relativeError(after, plainAfter)).isLessThanOrEqualTo(oneDnn ? 0x1p-7 : 0.0);
            assertThat(relativeError(after, out)).isGreaterThan(0.5);
            return null;
        });
    }

    @Test
    void withGradientsTheLayerTakesThePlainPath() {
        Torch.manualSeed(4);
        Linear layer = bf16Linear(32, 48);
        Tensor x = bf16(3, 32);
        assertThat(OneDnnLinear.applies(x)).isFalse();
        assertThat(floats(layer.forward(x))).containsExactly(floats(NN.linear(x, layer.weight(), layer.bias())));
    }

    /** The MLP with QuickGELU's constants folded into oneDNN's copies and silu fused, against its plain bf16 path. */
    @Test
    void theMlpTracksItsPlainPath() {
        Torch.manualSeed(5);
        QuickGeluMlp mlp = new QuickGeluMlp(64);
        mlp.to(DType.BF16);
        mlp.train(false);
        Tensor x = bf16(4, 7, 64);
        Tensor plain = mlp.forward(x); // gradients on: the plain bf16 path
        Tensor fused = Grad.noGrad(() -> mlp.forward(x));
        assertThat(relativeError(fused, plain)).isLessThanOrEqualTo(0x1p-6);
    }
}
