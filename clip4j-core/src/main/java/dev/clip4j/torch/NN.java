package dev.clip4j.torch;

import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * The functional neural-network operations clip4j's modules are written with, with plain Java
 * signatures (no Optional wrappers, no LongArrayRefs). Semantics are PyTorch's {@code torch.nn.functional}.
 */
public final class NN {
    private NN() {}

    private static TensorOptional opt(Tensor t) {
        return t == null ? new TensorOptional() : new TensorOptional(t);
    }

    /** {@code x @ w.T + b}; {@code b} may be null. */
    public static Tensor linear(Tensor x, Tensor w, Tensor b) {
        return torch.linear(x, w, opt(b));
    }

    /**
     * {@code alpha * (x · wᵀ) + b} as one GEMM that applies {@code alpha} to its accumulator ({@code addmm}'s alpha):
     * a constant folded into a layer without a pass over its weights or its activations. x [..., in], w [out, in], b [out].
     */
    public static Tensor linearScaled(Tensor x, Tensor w, Tensor b, double alpha) {
        long[] shape = Tensors.shape(x);
        long in = shape[shape.length - 1];
        shape[shape.length - 1] = w.size(0);
        Tensor rows = torch.addmm(b, x.reshape(-1, in), w.t(), new Scalar(1.0), new Scalar(alpha));
        return rows.reshape(shape);
    }

    /** LayerNorm over the last dimension (biased variance, as PyTorch). */
    public static Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, double eps) {
        return torch.layer_norm(x, new long[] {x.size(-1)}, opt(weight), opt(bias), eps, false);
    }

    public static Tensor conv2d(Tensor x, Tensor w, Tensor b, int stride, int padding) {
        return torch.conv2d(x, w, opt(b), new long[] {stride, stride}, new long[] {padding, padding},
                new long[] {1, 1}, 1);
    }

    /** BatchNorm2d: with {@code training} it uses batch statistics and updates the running ones in place. */
    public static Tensor batchNorm(Tensor x, Tensor weight, Tensor bias, Tensor runningMean, Tensor runningVar,
                                   boolean training, double momentum, double eps) {
        return torch.batch_norm(x, opt(weight), opt(bias), opt(runningMean), opt(runningVar), training, momentum, eps,
                false);
    }

    /** {@code nn.AvgPool2d(k)}: stride k, no padding, floor mode, padding counted. */
    public static Tensor avgPool2d(Tensor x, int k) {
        return torch.avg_pool2d(x, k, k);
    }

    public static Tensor softmax(Tensor x, long dim) {
        return torch.softmax(x, dim);
    }

    public static Tensor crossEntropy(Tensor logits, Tensor targets) {
        return torch.cross_entropy(logits, targets);
    }

    /** {@code x * sigmoid(x)}, one fused kernel forward and backward. */
    public static Tensor silu(Tensor x) {
        return torch.silu(x);
    }

    public static Tensor embedding(Tensor weight, Tensor ids) {
        return torch.embedding(weight, ids);
    }

    /** Fused attention (q, k, v as [B, H, L, d]) with the given score scale; {@code mask} is additive or null. */
    public static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor mask, double scale) {
        return torch.scaled_dot_product_attention(q, k, v, opt(mask), 0.0, false, new DoubleOptional(scale), false);
    }

    /** L2 normalisation along the last dimension, as {@code x / x.norm(dim=-1, keepdim=True)} in CLIP. */
    public static Tensor l2Normalize(Tensor x) {
        return x.div(x.norm(new org.bytedeco.pytorch.ScalarOptional(new Scalar(2.0)), new long[] {-1}, true));
    }

    public static Tensor argmax(Tensor x, long dim) {
        return torch.argmax(x, new org.bytedeco.pytorch.LongOptional(dim), false);
    }

    /**
     * An additive attention mask from a boolean key-padding mask [B, Lk] (true = padding): 0 where attended,
     * -inf at padding, shaped [B, 1, 1, Lk] to broadcast over heads and queries.
     */
    public static Tensor paddingMask(Tensor keyPadding, DType type) {
        long b = keyPadding.size(0), l = keyPadding.size(1);
        Tensor zeros = Tensors.zeros(type, b, l);
        return zeros.masked_fill(Tensors.to(keyPadding, DType.BOOL), new Scalar(Double.NEGATIVE_INFINITY)).reshape(b, 1, 1, l);
    }

    /** {@code log(sum(exp(x), dim))}, computed stably. */
    public static Tensor logsumexp(Tensor x, long dim) {
        return torch.logsumexp(x, new long[] {dim}, false);
    }

    /** {@code x} where {@code keep} is true, -inf elsewhere ({@code keep}: a bool or 0/1 tensor of the same shape). */
    public static Tensor keepOrNegativeInfinity(Tensor x, Tensor keep) {
        return x.masked_fill(Tensors.to(keep, DType.BOOL).logical_not(), new Scalar(Double.NEGATIVE_INFINITY));
    }

    /** {@code log(sigmoid(x))}, computed stably. */
    public static Tensor logSigmoid(Tensor x) {
        return torch.log_sigmoid(x);
    }

    /** The [n, n] float32 matrix with {@code onDiagonal} on the diagonal and {@code offDiagonal} elsewhere. */
    public static Tensor diagonalMatrix(long n, double onDiagonal, double offDiagonal) {
        return Tensors.to(torch.eye(n), DType.F32).mul(new Scalar(onDiagonal - offDiagonal)).add(new Scalar(offDiagonal));
    }

    /** The maximum along {@code dim} (the dimension removed); ties share the gradient. */
    public static Tensor amax(Tensor x, long dim) {
        return torch.amax(x, new long[] {dim}, false);
    }

    /** The sum along {@code dim} (the dimension removed), in the input's dtype. */
    public static Tensor sum(Tensor x, long dim) {
        return torch.sum(x, new long[] {dim}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
    }

    /** {@code log(softmax(x, dim))}, computed stably. */
    public static Tensor logSoftmax(Tensor x, long dim) {
        return torch.log_softmax(x, dim);
    }

    /** The exact (erf) GELU of BERT-style heads: {@code x · Φ(x)}. */
    public static Tensor gelu(Tensor x) {
        return torch.gelu(x);
    }
}
