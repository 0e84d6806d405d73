package dev.clip4j.checkpoint;

/** The checkpoint formats clip4j reads. */
public enum CheckpointFormat {
    /** OpenAI's released TorchScript archives ({@code ViT-B-32.pt} ...). */
    TORCHSCRIPT,
    /** {@code torch.save} zips: open_clip {@code .pt}, {@code pytorch_model.bin}. */
    TORCH_SAVE,
    /** A safetensors file with OpenAI/open_clip or Hugging Face names. */
    SAFETENSORS,
    /** A Hugging Face {@code CLIPModel} directory ({@code config.json} + weights). */
    HUGGING_FACE_DIR,
    /** A clip4j model directory ({@code clip4j.json} + {@code model.safetensors}). */
    CLIP4J_DIR
}
