package dev.clip4j.pretrain;

import dev.clip4j.nn.Init;
import dev.clip4j.nn.LayerNorm;
import dev.clip4j.nn.Linear;
import dev.clip4j.nn.Module;
import dev.clip4j.torch.NN;
import org.bytedeco.pytorch.Tensor;

/**
 * BERT's prediction head, as in the seed: {@code dense} + GELU + {@code LayerNorm} (the transform), then a decoder
 * tied to the word embeddings (passed in at each call, so it is the embedding itself, not a copy) plus its own bias.
 * The same shape serves MFM, with a decoder to the frame dimension instead ({@link #forward(Tensor, Tensor)} with that
 * weight).
 */
public final class MlmHead extends Module {
    private final int width, outputs;
    private final Linear dense;
    private final LayerNorm norm;

    /** {@code outputs}: the vocabulary size (or the frame dimension for MFM). */
    public MlmHead(int width, int outputs) {
        this.width = width;
        this.outputs = outputs;
        dense = child("dense", new Linear(width, width));
        norm = child("layer_norm", new LayerNorm(width));
        parameter("bias", Init.zeros(outputs));
    }

    /** hidden [N, width], decoder weight [outputs, width] → scores [N, outputs]. */
    public Tensor forward(Tensor hidden, Tensor decoderWeight) {
        Tensor h = norm.forward(NN.gelu(dense.forward(hidden)));
        return NN.linear(h, decoderWeight.to(h.scalar_type()), p("bias").to(h.scalar_type()));
    }

    @Override
    protected Module blank() {
        return new MlmHead(width, outputs);
    }
}
