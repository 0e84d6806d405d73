package dev.clip4j.model;

import dev.clip4j.torch.DType;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * Which attention kernel to use per precision. Pitfall 8: bf16 {@code scaled_dot_product_attention} is an order of
 * magnitude slower than plain matmul-softmax-matmul on this CPU, so the default is the plain form; the fused
 * kernel can be chosen per dtype (system properties {@code clip4j.sdpa.fp32} / {@code clip4j.sdpa.bf16}) where
 * a benchmark shows it is faster.
 */
final class AttentionKernel {
    private static final boolean FUSED_FP32 = Boolean.getBoolean("clip4j.sdpa.fp32");
    private static final boolean FUSED_BF16 = Boolean.getBoolean("clip4j.sdpa.bf16");

    private AttentionKernel() {}

    static boolean fused(Tensor q) {
        DType t = Tensors.dtype(q);
        return t == DType.F32 ? FUSED_FP32 : t == DType.BF16 && FUSED_BF16;
    }
}
