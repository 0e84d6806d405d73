package dev.clip4j.model;

import dev.clip4j.nn.Module;
import org.bytedeco.pytorch.Tensor;

/** CLIP's image tower ({@code visual.*}): a ViT or a ModifiedResNet behind one interface. */
public abstract class ImageTower extends Module {
    /** images: [B, 3, R, R] preprocessed; returns the pooled, projected features [B, embed_dim] (CLIP's encode_image). */
    public abstract Tensor encode(Tensor images);

    /**
     * The token sequence before pooling and projection, [B, L, W]: for a ViT every position after {@code ln_post}
     * (class token first), for a ResNet the final feature map's positions.
     */
    public abstract Tensor encodeTokens(Tensor images);
}
