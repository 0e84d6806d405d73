package dev.clip4j.model;

import dev.clip4j.torch.Autocast;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * softmax(q kᵀ + mask) v, with the kernel chosen per precision by measurement (bench/RESULTS.md):
 * <ul>
 *   <li>float32: libtorch's fused {@code scaled_dot_product_attention} (2.4× faster than the plain form in
 *       training here, as exact: ≤ 1.1e-6 from the reference);</li>
 *   <li>under bf16 autocast: the same fused float32 kernel on q, k, v cast up (pitfall 8: the bf16 fused kernel is
 *       an order of magnitude slower on this CPU; float32 attention is also the more exact choice);</li>
 *   <li>bf16 weights: the plain matmul-softmax-matmul form in bf16.</li>
 * </ul>
 * System properties {@code clip4j.sdpa.fp32}, {@code clip4j.sdpa.autocast} and {@code clip4j.sdpa.bf16} override
 * each choice for a benchmark.
 */
final class AttentionKernel {
    private static volatile boolean fusedFp32 = Boolean.parseBoolean(System.getProperty("clip4j.sdpa.fp32", "true"));
    private static volatile boolean fusedAutocast = Boolean.parseBoolean(System.getProperty("clip4j.sdpa.autocast", "true"));
    private static volatile boolean fusedBf16 = Boolean.getBoolean("clip4j.sdpa.bf16");

    private AttentionKernel() {}

    /** q, k, v: [B, H, L, d] with q already scaled by 1/sqrt(d); mask additive ([Lq, Lk] or broadcastable) or null. */
    static Tensor attend(Tensor q, Tensor k, Tensor v, Tensor mask) {
        DType type = Tensors.dtype(q);
        if (type == DType.F32 && fusedFp32) return NN.scaledDotProductAttention(q, k, v, mask, 1.0);
        if (type == DType.BF16 && fusedAutocast && Autocast.active()) {
            Tensor mask32 = mask == null ? null : Tensors.to(mask, DType.F32);
            Tensor out = Autocast.suspended(() -> NN.scaledDotProductAttention(Tensors.to(q, DType.F32),
                    Tensors.to(k, DType.F32), Tensors.to(v, DType.F32), mask32, 1.0));
            return Tensors.to(out, DType.BF16);
        }
        if (type == DType.BF16 && fusedBf16) return NN.scaledDotProductAttention(q, k, v, mask, 1.0);
        Tensor scores = q.matmul(k.transpose(-2, -1));
        if (mask != null) scores = scores.add(mask);
        return NN.softmax(scores, -1).matmul(v);
    }

    /** Chooses the kernels (what the system properties set at start-up); for tests comparing the paths. */
    static void useFused(boolean fp32, boolean autocast, boolean bf16) {
        fusedFp32 = fp32;
        fusedAutocast = autocast;
        fusedBf16 = bf16;
    }
}
