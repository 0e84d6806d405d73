package dev.clip4j.model;

import dev.clip4j.torch.NN;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * {@code nn.MultiheadAttention} self-attention with the packed {@code in_proj_weight} (so OpenAI weights load as
 * they are), batch-first. Like torch 1.13, q is divided by sqrt(head_dim) before the product and the mask is
 * additive. Optionally libtorch's fused kernel (same maths, different summation order).
 */
final class MultiheadAttention extends Module {
    private final int width;
    private final int heads;

    MultiheadAttention(ParameterStore store, String prefix, int width, int heads) {
        super(store, prefix);
        this.width = width;
        this.heads = heads;
        param("in_proj_weight", Init.xavierUniform(3L * width, width));
        param("in_proj_bias", Init.zeros(3L * width));
        param("out_proj.weight", Init.uniform(1.0 / Math.sqrt(width), width, width));
        param("out_proj.bias", Init.zeros(width));
    }

    /** x: [B, L, width]; mask: [L, L] additive, or null. */
    Tensor forward(Tensor x, Tensor mask) {
        long b = x.size(0), l = x.size(1);
        int d = width / heads;
        Tensor qkv = NN.linear(x, p("in_proj_weight"), p("in_proj_bias"))
                .reshape(b, l, 3, heads, d).permute(2, 0, 3, 1, 4); // [3, B, H, L, d]
        Tensor q = qkv.select(0, 0), k = qkv.select(0, 1), v = qkv.select(0, 2);
        Tensor out = attend(q, k, v, mask, d);                     // [B, H, L, d]
        out = out.transpose(1, 2).reshape(b, l, width);
        return NN.linear(out, p("out_proj.weight"), p("out_proj.bias"));
    }

    static Tensor attend(Tensor q, Tensor k, Tensor v, Tensor mask, int headDim) {
        if (AttentionKernel.fused(q)) return NN.scaledDotProductAttention(q, k, v, mask);
        Tensor scores = q.div(new Scalar(Math.sqrt(headDim))).matmul(k.transpose(-2, -1));
        if (mask != null) scores = scores.add(mask);
        return NN.softmax(scores, -1).matmul(v);
    }
}
