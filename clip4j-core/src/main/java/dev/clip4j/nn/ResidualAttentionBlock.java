package dev.clip4j.nn;

import dev.clip4j.onnx.OnnxGraph;
import org.bytedeco.pytorch.Tensor;

import java.util.function.UnaryOperator;

/**
 * Pre-LN transformer block: {@code x + attn(ln_1(x))}, optionally {@code x + cross_attn(ln_cross(x), memory)} (a
 * fusion encoder's cross-attention to another tower's tokens), then {@code x + mlp(ln_2(x))}.
 */
public final class ResidualAttentionBlock extends Module {
    private final int width, heads;
    private final boolean crossAttention;
    private final MultiheadAttention attn;
    private final LayerNorm ln1;
    private final QuickGeluMlp mlp;
    private final LayerNorm ln2;
    private final MultiheadAttention crossAttn;
    private final LayerNorm lnCross;

    public ResidualAttentionBlock(int width, int heads) {
        this(width, heads, false);
    }

    public ResidualAttentionBlock(int width, int heads, boolean crossAttention) {
        this.width = width;
        this.heads = heads;
        this.crossAttention = crossAttention;
        attn = child("attn", new MultiheadAttention(width, heads));
        ln1 = child("ln_1", new LayerNorm(width));
        mlp = child("mlp", new QuickGeluMlp(width));
        ln2 = child("ln_2", new LayerNorm(width));
        crossAttn = crossAttention ? child("cross_attn", new MultiheadAttention(width, heads)) : null;
        lnCross = crossAttention ? child("ln_cross", new LayerNorm(width)) : null;
    }

    /** Self-attention with an additive [L, L] mask (or null). */
    public Tensor forward(Tensor x, Tensor mask) {
        x = x.add(attn.forward(ln1.forward(x), mask));
        return x.add(mlp.forward(ln2.forward(x)));
    }

    /**
     * The general form: self-attention with an additive mask and a key-padding mask ([B, L] boolean, true = padding),
     * then, in a block with cross-attention, attention to {@code memory} [B, M, width] (its padding {@code memoryPadding}).
     */
    public Tensor forward(Tensor x, Tensor mask, Tensor padding, Tensor memory, Tensor memoryPadding) {
        Tensor h = ln1.forward(x);
        x = x.add(padding == null ? attn.forward(h, mask) : attn.forward(h, h, mask, padding));
        if (crossAttention) {
            if (memory == null) throw new IllegalArgumentException("a cross-attention block needs the memory sequence");
            x = x.add(crossAttn.forward(lnCross.forward(x), memory, null, memoryPadding));
        }
        return x.add(mlp.forward(ln2.forward(x)));
    }

    /** The block's output at position {@code rows[b]} of each sequence: [B, width] (see {@link Transformer#forwardPooled}). */
    public Tensor forwardPooled(Tensor x, Tensor mask, Tensor rows) {
        Tensor attended = attn.forwardPooled(ln1.forward(x), mask, rows);
        Tensor y = MultiheadAttention.gather(x, rows).add(attended);
        return y.add(mlp.forward(ln2.forward(y)));
    }

    /** {@link #forward(Tensor, Tensor)} in an ONNX graph, on rows [B·L, width] of sequences of length {@code l}. */
    public String onnx(OnnxGraph g, String x, Object l, String mask) {
        x = g.add(x, attn.onnx(g, ln1.onnx(g, x), l, mask));
        return g.add(x, mlp.onnx(g, ln2.onnx(g, x)));
    }

    /**
     * {@link #forwardPooled} in an ONNX graph: {@code pick} takes each sequence's pooled row out of rows [B·L, width]
     * ([B, width]); {@code rowMask} is the mask's rows for those queries, [B, 1, 1, l], or null.
     */
    public String onnxPooled(OnnxGraph g, String x, Object l, UnaryOperator<String> pick, String rowMask) {
        String h = ln1.onnx(g, x);
        String y = g.add(pick.apply(x), attn.onnxPooled(g, h, pick.apply(h), l, rowMask));
        return g.add(y, mlp.onnx(g, ln2.onnx(g, y)));
    }

    public MultiheadAttention attn() {
        return attn;
    }

    public QuickGeluMlp mlp() {
        return mlp;
    }

    @Override
    protected Module blank() {
        return new ResidualAttentionBlock(width, heads, crossAttention);
    }
}
