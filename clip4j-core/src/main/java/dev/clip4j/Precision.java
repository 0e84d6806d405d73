package dev.clip4j;

/**
 * Inference precision. {@code FP32} is the exact reference; {@code BF16} runs matrix products in bfloat16 (with
 * LayerNorm in float32, as OpenAI's fp16 models do), which uses the AMX/AVX-512-BF16 units of recent Xeons.
 */
public enum Precision {
    FP32, BF16;

    public static Precision parse(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "fp32", "float32", "f32" -> FP32;
            case "bf16", "bfloat16" -> BF16;
            default -> throw new IllegalArgumentException("unknown precision '" + s + "' (use fp32 or bf16)");
        };
    }
}
