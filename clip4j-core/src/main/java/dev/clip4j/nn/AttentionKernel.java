package dev.clip4j.nn;

import dev.clip4j.torch.Autocast;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Ops;
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
 * The choice is a {@link Policy}: {@link Policy#DEFAULT} comes from the system properties {@code clip4j.sdpa.fp32},
 * {@code clip4j.sdpa.autocast} and {@code clip4j.sdpa.bf16} (for benchmarks); {@link #with} runs code under another
 * policy on the calling thread only, so no caller (a test, say) changes what other threads compute.
 */
public final class AttentionKernel {
    /** Which precisions use libtorch's fused kernel. */
    public record Policy(boolean fusedFp32, boolean fusedAutocast, boolean fusedBf16) {
        public static final Policy DEFAULT = new Policy(Boolean.parseBoolean(System.getProperty("clip4j.sdpa.fp32", "true")),
                Boolean.parseBoolean(System.getProperty("clip4j.sdpa.autocast", "true")), Boolean.getBoolean("clip4j.sdpa.bf16"));
        /** The plain matmul-softmax-matmul form everywhere. */
        public static final Policy PLAIN = new Policy(false, false, false);
    }

    private static final ThreadLocal<Policy> CURRENT = ThreadLocal.withInitial(() -> Policy.DEFAULT);

    private AttentionKernel() {}

    /** Runs {@code body} with {@code policy} on this thread, then restores the previous one. */
    public static <T> T with(Policy policy, java.util.function.Supplier<T> body) {
        Policy before = CURRENT.get();
        CURRENT.set(policy);
        try {
            return body.get();
        } finally {
            CURRENT.set(before);
        }
    }

    public static Policy current() {
        return CURRENT.get();
    }

    /** q, k, v: [B, H, L, d] with q already scaled by 1/sqrt(d); mask additive ([Lq, Lk] or broadcastable) or null. */
    public static Tensor attend(Tensor q, Tensor k, Tensor v, Tensor mask) {
        return attend(q, k, v, mask, 1.0);
    }

    /** softmax(scale · q kᵀ + mask) v: {@link #attend(Tensor, Tensor, Tensor, Tensor)} with the scores scaled here. */
    public static Tensor attend(Tensor q, Tensor k, Tensor v, Tensor mask, double scale) {
        DType type = Tensors.dtype(q);
        Policy p = CURRENT.get();
        boolean fusedFp32 = p.fusedFp32(), fusedAutocast = p.fusedAutocast(), fusedBf16 = p.fusedBf16();
        if (type == DType.F32 && fusedFp32) return NN.scaledDotProductAttention(q, k, v, mask, scale);
        if (type == DType.BF16 && fusedAutocast && Autocast.active()) {
            Tensor mask32 = mask == null ? null : Tensors.to(mask, DType.F32);
            Tensor out = Autocast.suspended(() -> NN.scaledDotProductAttention(Tensors.to(q, DType.F32),
                    Tensors.to(k, DType.F32), Tensors.to(v, DType.F32), mask32, scale));
            return Tensors.to(out, DType.BF16);
        }
        if (type == DType.BF16 && fusedBf16) return NN.scaledDotProductAttention(q, k, v, mask, scale);
        Tensor scores = q.matmul(k.transpose(-2, -1));
        if (scale != 1.0) scores = Ops.mul_(scores, scale);
        if (mask != null) scores = scores.add(mask);
        return NN.softmax(scores, -1).matmul(v);
    }
}
