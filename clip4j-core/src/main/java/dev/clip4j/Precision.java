package dev.clip4j;

/**
 * Inference precision. {@code FP32} is the exact reference; {@code BF16} runs matrix products in bfloat16 (with
 * LayerNorm in float32, as OpenAI's fp16 models do), which uses the AMX/AVX-512-BF16 units of recent Xeons.
 */
public enum Precision {
    FP32, BF16;

    /** fp32, bf16, or auto ({@link AutoPrecision}: bf16 where this CPU runs it natively and faster, else fp32). */
    public static Precision parse(String s) {
        if ("auto".equalsIgnoreCase(s)) return AutoPrecision.resolve();
        try {
            return explicit(s);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown precision '" + s + "' (use fp32, bf16 or auto)");
        }
    }

    /** fp32 or bf16 only (what an index manifest or an override names). */
    public static Precision explicit(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "fp32", "float32", "f32" -> FP32;
            case "bf16", "bfloat16" -> BF16;
            default -> throw new IllegalArgumentException("unknown precision '" + s + "' (use fp32 or bf16)");
        };
    }
}
