package dev.clip4j.model;

import dev.clip4j.nn.Module;
import org.bytedeco.pytorch.Tensor;

/** CLIP's image tower ({@code visual.*}): a ViT or a ModifiedResNet behind one interface. */
public abstract class ImageTower extends Module {
    /** images: [B, 3, R, R] preprocessed; returns the pooled, projected features [B, embed_dim] (CLIP's encode_image). */
    public abstract Tensor encode(Tensor images);

    /**
     * The pooled feature before the projection into the shared space, [B, W]: the ViT's class token after
     * {@code ln_post}; for a ResNet the attention-pooled output (its projection is part of the pooling). SimCLR's head
     * reads this, as SLIP's does.
     */
    public abstract Tensor encodePooled(Tensor images);

    /**
     * The token sequence before pooling and projection, [B, L, W]: for a ViT every position after {@code ln_post}
     * (class token first), for a ResNet the final feature map's positions.
     */
    public abstract Tensor encodeTokens(Tensor images);

    /**
     * Every token projected into the shared space, [B, L, embed_dim], for token-wise scoring ({@link Scoring}): a
     * ViT's positions after {@code ln_post} times {@code proj} (class token first); a ResNet's positions (spatial mean
     * first) through its attention pool's value and output projections, the dense reading of MaskCLIP.
     */
    public abstract Tensor encodeTokenFeatures(Tensor images);

    /**
     * {@link #encode} in an ONNX graph ({@link dev.clip4j.onnx.OnnxClip}): {@code images} [B, 3, R, R] float32 →
     * features [B, embed_dim], the inference forward (evaluation mode) of these weights.
     */
    public abstract String onnx(dev.clip4j.onnx.OnnxGraph g, String images);
}
