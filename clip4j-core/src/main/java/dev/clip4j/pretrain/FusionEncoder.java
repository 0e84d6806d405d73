package dev.clip4j.pretrain;

import dev.clip4j.nn.LayerNorm;
import dev.clip4j.nn.Linear;
import dev.clip4j.nn.Module;
import dev.clip4j.nn.Transformer;
import org.bytedeco.pytorch.Tensor;

/**
 * ALBEF's fusion encoder: the text encoder's remaining layers, each with self-attention over the text (padding masked),
 * cross-attention to every image token, and an MLP; then a final LayerNorm (the blocks are pre-LN, as CLIP's). Image
 * tokens of another width pass through {@code image_proj} first (ALBEF's BERT has key/value projections from the
 * encoder width; with equal widths there is no extra layer).
 */
public final class FusionEncoder extends Module {
    private final int width, imageWidth, layers, heads;
    private final Transformer transformer;
    private final LayerNorm lnFinal;
    private final Linear imageProj;

    public FusionEncoder(int width, int imageWidth, int layers, int heads) {
        if (layers < 1) throw new IllegalArgumentException("a fusion encoder needs at least one layer, got " + layers);
        this.width = width;
        this.imageWidth = imageWidth;
        this.layers = layers;
        this.heads = heads;
        transformer = child("transformer", new Transformer(width, layers, heads, true));
        lnFinal = child("ln_final", new LayerNorm(width));
        imageProj = imageWidth == width ? null : child("image_proj", new Linear(imageWidth, width));
        transformer.initializeLikeOpenAi();
    }

    public int width() {
        return width;
    }

    /**
     * text [B, L, width] (the text encoder's residual stream), its padding [B, L] (true = padding) and image tokens
     * [B, M, imageWidth] → the fused sequence [B, L, width]; position 0 ([CLS]) is what ITM classifies.
     */
    public Tensor forward(Tensor text, Tensor textPadding, Tensor imageTokens) {
        Tensor memory = imageProj == null ? imageTokens.to(text.scalar_type()) : imageProj.forward(imageTokens);
        return lnFinal.forward(transformer.forward(text, null, textPadding, memory, null));
    }

    @Override
    protected Module blank() {
        return new FusionEncoder(width, imageWidth, layers, heads);
    }
}
