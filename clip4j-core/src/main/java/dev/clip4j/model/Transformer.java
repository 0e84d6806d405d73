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
     * The output at one position per sequence ({@code rows}: [B] int64): every block run on every position, then
     * {@code x[b, rows[b]]}.
     * CLIP's towers pool a single token (class token, end-of-text token), so the last block only needs that
     * token's query, attention output and MLP: the other positions enter only as keys and values. That is the
     * same arithmetic for the kept rows and saves most of the last block (a quarter of a 4-layer tower).
     * Each block runs in its own memory scope, so a block's intermediates are released when it ends (autograd
     * keeps what backward needs by its own references); without this a forward holds every layer's intermediates.
     */
    Tensor forwardAt(Tensor x, Tensor mask, Tensor rows) {
        for (int i = 0; i < blocks.size(); i++) {
            try (Scope scope = Scope.open()) {
                ResidualAttentionBlock b = blocks.get(i);
                x = scope.keep(i < blocks.size() - 1 ? b.forward(x, mask) : b.forwardAt(x, mask, rows));
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
