package dev.clip4j.nn;

import dev.clip4j.onnx.OnnxGraph;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.OneDnnLinear;
import dev.clip4j.torch.QuantizedLinear;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * {@code nn.MultiheadAttention}, batch-first, with the packed {@code in_proj_weight} (so OpenAI weights load as they
 * are): self-attention, or cross-attention with keys and values from another sequence. Like torch 1.13, q is divided
 * by sqrt(head_dim) before the product; masks are an additive {@code [Lq, Lk]} attention mask (e.g. causal) and/or a
 * boolean key-padding mask {@code [B, Lk]} (true = padding, never attended). {@link AttentionKernel} picks the kernel.
 */
public final class MultiheadAttention extends Module {
    private final int width;
    private final int heads;
    private final Linear outProj;
    /** int8 inference ({@link Module#quantizeInt8}): the scaled q rows and the k/v rows of in_proj, packed apart. */
    private QuantizedLinear qInt8, kvInt8;
    /** bf16 inference: the packed in_proj on oneDNN ({@link OneDnnLinear}). */
    private final OneDnnLinear.Cache inProjOneDnn = new OneDnnLinear.Cache();

    public MultiheadAttention(int width, int heads) {
        if (width % heads != 0) throw new IllegalArgumentException("width " + width + " is not divisible by " + heads + " heads");
        this.width = width;
        this.heads = heads;
        parameter("in_proj_weight", Init.xavierUniform(3L * width, width));
        parameter("in_proj_bias", Init.zeros(3L * width));
        outProj = child("out_proj", new Linear(Init.uniform(1.0 / Math.sqrt(width), width, width), Init.zeros(width)));
    }

    public int width() {
        return width;
    }

    public int heads() {
        return heads;
    }

    /** Self-attention. x: [B, L, width]; mask: [L, L] additive, or null. */
    public Tensor forward(Tensor x, Tensor mask) {
        if (qInt8 != null) return forward(x, x, mask, null);
        long b = x.size(0), l = x.size(1);
        int d = width / heads;
        Tensor qkv = inProjection(x).reshape(b, l, 3, heads, d).permute(2, 0, 3, 1, 4); // [3, B, H, L, d]
        Tensor q = scaleQuery(qkv.select(0, 0)), k = qkv.select(0, 1), v = qkv.select(0, 2);
        Tensor out = AttentionKernel.attend(q, k, v, mask, scoreScale()); // [B, H, L, d]
        out = out.transpose(1, 2).reshape(b, l, width);
        return outProj.forward(out);
    }

    /**
     * Attention of {@code query} [B, Lq, width] over {@code memory} [B, Lk, width] (the same tensor for
     * self-attention with padding): q from the first third of in_proj, k and v from the rest.
     *
     * @param mask           additive [Lq, Lk], or null
     * @param keyPadding     boolean [B, Lk], true at padding positions, or null
     */
    public Tensor forward(Tensor query, Tensor memory, Tensor mask, Tensor keyPadding) {
        long b = query.size(0), lq = query.size(1), lk = memory.size(1);
        int d = width / heads;
        Tensor q = projectQuery(query).reshape(b, lq, heads, d).transpose(1, 2);
        Tensor kv = projectKeysValues(memory).reshape(b, lk, 2, heads, d).permute(2, 0, 3, 1, 4);
        Tensor out = AttentionKernel.attend(q, kv.select(0, 0), kv.select(0, 1), combine(mask, keyPadding, Tensors.dtype(q)),
                scoreScale());
        return outProj.forward(out.transpose(1, 2).reshape(b, lq, width));
    }

    /** One additive mask from an attention mask [Lq, Lk] and a key-padding mask [B, Lk]: [B, 1, Lq or 1, Lk]. */
    static Tensor combine(Tensor mask, Tensor keyPadding, DType type) {
        Tensor pad = keyPadding == null ? null : NN.paddingMask(keyPadding, type);
        if (pad == null) return mask == null ? null : Tensors.to(mask, type);
        return mask == null ? pad : pad.add(Tensors.to(mask, type));
    }

    /**
     * Self-attention output at one query position per sequence ({@code rows}: [B] int64): [B, width]. Keys and
     * values come from every position; the mask's rows for those queries apply ([L, L] → [B, 1, 1, L]).
     */
    public Tensor forwardPooled(Tensor x, Tensor mask, Tensor rows) {
        long b = x.size(0), l = x.size(1);
        int d = width / heads;
        // q only for the kept rows; k and v for every position
        Tensor q = projectQuery(gather(x, rows)).reshape(b, heads, 1, d);
        Tensor kv = projectKeysValues(x).reshape(b, l, 2, heads, d).permute(2, 0, 3, 1, 4);
        Tensor rowMask = mask == null ? null : mask.index_select(0, rows).reshape(b, 1, 1, l);
        Tensor out = AttentionKernel.attend(q, kv.select(0, 0), kv.select(0, 1), rowMask, scoreScale()); // [B, H, 1, d]
        return outProj.forward(out.reshape(b, width));
    }

    /**
     * Self-attention in an ONNX graph: {@code x} rows [B·L, width] of sequences of length {@code l} (a {@code Long}, or
     * an int64 [1] value where the length is known only when the graph runs: {@link OnnxGraph#size}), {@code mask} an
     * additive [l, l] value or null; returns rows [B·L, width]. q (pre-scaled, as here) and k/v are two Gemms over
     * the stored weight's rows, so no weight is copied but q's.
     */
    public String onnx(OnnxGraph g, String x, Object l, String mask) {
        int d = width / heads;
        String q = g.transpose(g.reshapeTo(onnxQuery(g, x), -1, l, heads, d), 0, 2, 1, 3); // [B, H, L, d]
        String[] kv = onnxKeysValues(g, x, l);
        String scores = g.matmul(q, kv[0]);                                               // [B, H, L, L]
        if (mask != null) scores = g.add(scores, mask);
        String out = g.matmul(g.softmax(scores), kv[1]);                                  // [B, H, L, d]
        return outProj.onnx(g, g.reshape(g.transpose(out, 0, 2, 1, 3), -1, width));
    }

    /**
     * {@link #forwardPooled} in an ONNX graph: the queries {@code rows} [B, width] (one per sequence) over keys and
     * values from every position of {@code x} [B·L, width]; {@code rowMask} additive [B, 1, 1, l] or null. Returns [B, width].
     */
    public String onnxPooled(OnnxGraph g, String x, String rows, Object l, String rowMask) {
        int d = width / heads;
        String q = g.reshape(onnxQuery(g, rows), -1, heads, 1, d);                         // [B, H, 1, d]
        String[] kv = onnxKeysValues(g, x, l);
        String scores = g.matmul(q, kv[0]);                                               // [B, H, 1, L]
        if (rowMask != null) scores = g.add(scores, rowMask);
        String out = g.matmul(g.softmax(scores), kv[1]);                                  // [B, H, 1, d]
        return outProj.onnx(g, g.reshape(out, -1, width));
    }

    private String onnxQuery(OnnxGraph g, String x) {
        if (qInt8 != null) return g.quantizedMatMul(x, qInt8.weights());
        return Linear.onnx(g, x, scaledQueryRows(p("in_proj_weight")), scaledQueryRows(p("in_proj_bias")));
    }

    /**
     * k transposed for the product, [B, H, d, L], and v, [B, H, L, d], from rows [B·L, width]. In float32 each is a Gemm
     * of its own over its rows of the stored weight (no copy, and no Split of a joint product); int8 keeps one product
     * for both, so that the rows are quantized once.
     */
    private String[] onnxKeysValues(OnnxGraph g, String x, Object l) {
        int d = width / heads;
        String k, v;
        if (kvInt8 != null) {
            String[] split = g.splitLast(g.quantizedMatMul(x, kvInt8.weights()), 2, width);
            k = split[0];
            v = split[1];
        } else {
            k = Linear.onnx(g, x, p("in_proj_weight").narrow(0, width, width), p("in_proj_bias").narrow(0, width, width));
            v = Linear.onnx(g, x, p("in_proj_weight").narrow(0, 2L * width, width), p("in_proj_bias").narrow(0, 2L * width, width));
        }
        return new String[] {
            g.transpose(g.reshapeTo(k, -1, l, heads, d), 0, 2, 3, 1),
            g.transpose(g.reshapeTo(v, -1, l, heads, d), 0, 2, 1, 3)};
    }

    /**
     * q = x · W_q.T + b_q, divided by sqrt(head_dim) here or, in evaluation where that root is a power of two, by
     * the attention ({@link #scoreScale}): [..., width].
     */
    private Tensor projectQuery(Tensor x) {
        if (qInt8 != null) return qInt8.forward(x);
        if (constantsOnGemms()) return scaleQuery(NN.linear(x, p("in_proj_weight").narrow(0, 0, width), p("in_proj_bias").narrow(0, 0, width)));
        return NN.linear(x, scaledQueryRows(p("in_proj_weight")), scaledQueryRows(p("in_proj_bias")));
    }

    /**
     * In evaluation, q from an unscaled projection: divided by sqrt(head_dim) as the reference divides it (after the
     * projection), unless the attention applies the scale ({@link #scoreScale}). Identity otherwise.
     */
    private Tensor scaleQuery(Tensor q) {
        if (!constantsOnGemms() || qInt8 != null || scoreScale() != 1.0) return q;
        return Ops.div(q, Math.sqrt((double) width / heads));
    }

    /**
     * The scale the attention applies to its scores: 1/sqrt(head_dim) in evaluation when that root is a power of two
     * (CLIP's head width 64: 1/8), then exactly the reference's q / sqrt(head_dim), as scaling by a power of two
     * commutes with rounding in float32 and bf16 alike; 1 where q comes scaled (training's folded weights, int8,
     * other head widths).
     */
    private double scoreScale() {
        int d = width / heads;
        return constantsOnGemms() && qInt8 == null && Integer.bitCount(d) == 1 && (Integer.numberOfTrailingZeros(d) & 1) == 0
                ? 1.0 / Math.sqrt(d) : 1.0;
    }

    /** k and v side by side: [..., 2 * width]. */
    private Tensor projectKeysValues(Tensor x) {
        if (kvInt8 != null) return kvInt8.forward(x);
        return NN.linear(x, p("in_proj_weight").narrow(0, width, 2L * width), p("in_proj_bias").narrow(0, width, 2L * width));
    }

    /** int8 in_proj as two packed layers (q with its folded scale; k and v), then out_proj. */
    @Override
    protected void quantizeOwn() {
        Tensor w = p("in_proj_weight"), bias = p("in_proj_bias");
        qInt8 = own(QuantizedLinear.pack(scaledQueryRows(w), scaledQueryRows(bias)));
        kvInt8 = own(QuantizedLinear.pack(w.narrow(0, width, 2L * width), bias.narrow(0, width, 2L * width)));
        release("in_proj_weight");
        quantizeChild(outProj);
    }

    /**
     * The packed q/k/v projection: in training q already divided by sqrt(head_dim) (see {@link #scaledQueryRows}); in
     * evaluation unscaled ({@link #scaleQuery} and {@link #scoreScale} then scale it, without copying the weight).
     */
    private Tensor inProjection(Tensor x) {
        Tensor w = p("in_proj_weight"), bias = p("in_proj_bias");
        if (constantsOnGemms()) return OneDnnLinear.applies(x) ? inProjOneDnn.get(w, bias, 1, 1).forward(x) : NN.linear(x, w, bias);
        w = Tensors.cat(0, scaledQueryRows(w), w.narrow(0, width, 2L * width));
        bias = Tensors.cat(0, scaledQueryRows(bias), bias.narrow(0, width, 2L * width));
        return NN.linear(x, w, bias);
    }

    /**
     * The q rows of a packed in_proj weight or bias divided by sqrt(head_dim): the division is folded into these
     * small rows instead of a pass over the activations (and its backward). For CLIP's head width 64 the divisor
     * is 8, a power of two, so this is bit-identical to dividing q afterwards.
     */
    private Tensor scaledQueryRows(Tensor packed) {
        return Ops.mul(packed.narrow(0, 0, width), 1.0 / Math.sqrt((double) width / heads));
    }

    /** {@code x[b, rows[b]]} for x [B, L, C]: [B, C]. */
    public static Tensor gather(Tensor x, Tensor rows) {
        long b = x.size(0), l = x.size(1);
        Tensor flat = Ops.mul(Tensors.arange(b), l).add(rows);
        return x.reshape(b * l, x.size(2)).index_select(0, flat);
    }

    Tensor inProjWeight() {
        return p("in_proj_weight");
    }

    Linear outProj() {
        return outProj;
    }

    @Override
    protected Module blank() {
        return new MultiheadAttention(width, heads);
    }
}
