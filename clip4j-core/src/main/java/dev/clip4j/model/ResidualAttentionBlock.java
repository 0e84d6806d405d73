package dev.clip4j.model;

import dev.clip4j.torch.Ops;
import dev.clip4j.torch.NN;
import org.bytedeco.pytorch.Tensor;

/** Pre-LN transformer block: {@code x + attn(ln_1(x))}, then {@code x + mlp(ln_2(x))} with a QuickGELU MLP of width 4x. */
final class ResidualAttentionBlock extends Module {
    private static final double QUICK_GELU = 1.702;
    private final MultiheadAttention attn;
    private final LayerNorm ln1;
    private final LayerNorm ln2;

    ResidualAttentionBlock(ParameterStore store, String prefix, int width, int heads) {
        super(store, prefix);
        attn = new MultiheadAttention(store, prefix + "attn.", width, heads);
        ln1 = new LayerNorm(store, prefix + "ln_1.", width);
        param("mlp.c_fc.weight", Init.uniform(1.0 / Math.sqrt(width), 4L * width, width));
        param("mlp.c_fc.bias", Init.uniform(1.0 / Math.sqrt(width), 4L * width));
        param("mlp.c_proj.weight", Init.uniform(1.0 / Math.sqrt(4.0 * width), width, 4L * width));
        param("mlp.c_proj.bias", Init.uniform(1.0 / Math.sqrt(4.0 * width), width));
        ln2 = new LayerNorm(store, prefix + "ln_2.", width);
    }

    Tensor forward(Tensor x, Tensor mask) {
        return mlpResidual(x.add(attn.forward(ln1.forward(x), mask)));
    }

    /** The block's output at position {@code rows[b]} of each sequence: [B, width] (see {@link Transformer#forwardAt}). */
    Tensor forwardAt(Tensor x, Tensor mask, Tensor rows) {
        Tensor attended = attn.forwardAt(ln1.forward(x), mask, rows);
        return mlpResidual(MultiheadAttention.gather(x, rows).add(attended));
    }

    /**
     * {@code x + c_proj(QuickGELU(c_fc(ln_2(x))))}. QuickGELU(h) = h·σ(1.702h) = silu(1.702h) / 1.702, and both
     * constants are folded into the (small) weights: c_fc scaled by 1.702, c_proj by 1/1.702. The wide
     * activation then sees a single fused silu instead of multiply, sigmoid, multiply (and their backward).
     */
    private Tensor mlpResidual(Tensor x) {
        Tensor h = NN.silu(NN.linear(ln2.forward(x), Ops.mul(p("mlp.c_fc.weight"), QUICK_GELU), Ops.mul(p("mlp.c_fc.bias"), QUICK_GELU)));
        return x.add(NN.linear(h, Ops.div(p("mlp.c_proj.weight"), QUICK_GELU), p("mlp.c_proj.bias")));
    }
}
