package dev.clip4j.pretrain;

import dev.clip4j.nn.Linear;
import dev.clip4j.nn.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * What an ALBEF-style model adds to its two unimodal encoders (a {@link dev.clip4j.model.ClipModel} with a
 * bidirectional text tower): the {@link FusionEncoder}, the MLM head (decoder tied to the text tower's token
 * embeddings) and the ITM head (2-way: not matched / matched) on the fused [CLS].
 */
public final class FusionModel extends Module {
    private final int width, imageWidth, layers, heads, vocab;
    private final FusionEncoder encoder;
    private final MlmHead mlmHead;
    private final Linear itmHead;

    public FusionModel(int width, int imageWidth, int layers, int heads, int vocab) {
        this.width = width;
        this.imageWidth = imageWidth;
        this.layers = layers;
        this.heads = heads;
        this.vocab = vocab;
        encoder = child("encoder", new FusionEncoder(width, imageWidth, layers, heads));
        mlmHead = child("mlm_head", new MlmHead(width, vocab));
        itmHead = child("itm_head", new Linear(width, 2));
    }

    public FusionEncoder encoder() {
        return encoder;
    }

    public MlmHead mlmHead() {
        return mlmHead;
    }

    /** ITM scores [B, 2] of fused sequences [B, L, width] (from their position 0). */
    public Tensor itm(Tensor fused) {
        return itmHead.forward(fused.select(1, 0));
    }

    @Override
    protected Module blank() {
        return new FusionModel(width, imageWidth, layers, heads, vocab);
    }
}
