package dev.clip4j;

/**
 * Inference precision. {@code FP32} is the exact reference; {@code BF16} runs matrix products in bfloat16 (with
 * LayerNorm in float32, as OpenAI's fp16 models do), which uses the AMX/AVX-512-BF16 units of recent Xeons;
 * {@code INT8} quantizes the linear layers dynamically, as PyTorch's {@code quantize_dynamic}
 * ({@link dev.clip4j.nn.Module#quantizeInt8}): int8 weights per output channel, activations per call.
 */
public enum Precision {
    FP32, BF16, INT8;

    /**
     * fp32, bf16, int8, or auto ({@link AutoPrecision}: bf16 where this CPU runs it natively and faster, else fp32;
     * never int8, whose features differ from fp32's more than bf16's do — a choice for the user to make).
     */
    public static Precision parse(String s) {
        if ("auto".equalsIgnoreCase(s)) return AutoPrecision.resolve();
        try {
            return explicit(s);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown precision '" + s + "' (use fp32, bf16, int8 or auto)");
        }
    }

    /** fp32, bf16 or int8, never auto (what an index manifest names). */
    public static Precision explicit(String s) {
        return switch (s.toLowerCase(java.util.Locale.ROOT)) {
            case "fp32", "float32", "f32" -> FP32;
            case "bf16", "bfloat16" -> BF16;
            case "int8", "qint8" -> INT8;
            default -> throw new IllegalArgumentException("unknown precision '" + s + "' (use fp32, bf16 or int8)");
        };
    }
}
