package dev.clip4j.model;

import dev.clip4j.torch.NN;
import org.bytedeco.pytorch.Tensor;

/** Pre-LN transformer block: {@code x + attn(ln_1(x))}, then {@code x + mlp(ln_2(x))} with a QuickGELU MLP of width 4x. */
final class ResidualAttentionBlock extends Module {
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
        x = x.add(attn.forward(ln1.forward(x), mask));
        Tensor h = NN.linear(ln2.forward(x), p("mlp.c_fc.weight"), p("mlp.c_fc.bias"));
        return x.add(NN.linear(NN.quickGelu(h), p("mlp.c_proj.weight"), p("mlp.c_proj.bias")));
    }
}
