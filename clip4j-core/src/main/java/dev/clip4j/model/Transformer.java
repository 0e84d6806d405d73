package dev.clip4j.model;

import dev.clip4j.torch.Scope;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.List;

/** A stack of {@link ResidualAttentionBlock}s ({@code <prefix>resblocks.<i>.}), batch-first. */
final class Transformer extends Module {
    final int width;
    final int layers;
    private final List<ResidualAttentionBlock> blocks = new ArrayList<>();

    Transformer(ParameterStore store, String prefix, int width, int layers, int heads) {
        super(store, prefix);
        this.width = width;
        this.layers = layers;
        for (int i = 0; i < layers; i++) {
            blocks.add(new ResidualAttentionBlock(store, prefix + "resblocks." + i + ".", width, heads));
        }
    }

    /**
     * Each block runs in its own memory scope, so a block's intermediates are released when it ends (autograd
     * keeps what backward needs by its own references); without this a forward holds every layer's intermediates.
     */
    Tensor forward(Tensor x, Tensor mask) {
        for (ResidualAttentionBlock b : blocks) {
            try (Scope scope = Scope.open()) {
                x = scope.keep(b.forward(x, mask));
            }
        }
        return x;
    }

    /** OpenAI's re-initialisation of the transformer weights (std scaled by width and depth). */
    void initializeLikeOpenAi() {
        double projStd = Math.pow(width, -0.5) * Math.pow(2.0 * layers, -0.5);
        double attnStd = Math.pow(width, -0.5);
        double fcStd = Math.pow(2.0 * width, -0.5);
        for (int i = 0; i < layers; i++) {
            String b = prefix + "resblocks." + i + ".";
            Init.fillNormal(store.get(b + "attn.in_proj_weight"), attnStd);
            Init.fillNormal(store.get(b + "attn.out_proj.weight"), projStd);
            Init.fillNormal(store.get(b + "mlp.c_fc.weight"), fcStd);
            Init.fillNormal(store.get(b + "mlp.c_proj.weight"), projStd);
        }
    }
}
