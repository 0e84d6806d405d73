package dev.clip4j.model;

import org.bytedeco.pytorch.Tensor;

/**
 * What evaluation needs of a CLIP model: its two towers' pooled features and their input sizes. A {@link ClipModel}
 * runs them on libtorch; {@code dev.clip4j.onnx.OnnxClip} on ONNX Runtime.
 */
public interface FeatureEncoder {
    /** {@code encode_image}: preprocessed images [B, 3, R, R] → features [B, embed_dim]. */
    Tensor encodeImage(Tensor images);

    /** {@code encode_text}: tokens [B, context length] → features [B, embed_dim]. */
    Tensor encodeText(Tensor tokens);

    /** R, the side of the square images {@link #encodeImage} takes. */
    int imageResolution();

    /** The number of token positions {@link #encodeText} takes. */
    int contextLength();
}
