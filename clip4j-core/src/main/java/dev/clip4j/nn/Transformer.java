package dev.clip4j.nn;

import dev.clip4j.onnx.OnnxGraph;
import dev.clip4j.torch.Scope;
import org.bytedeco.pytorch.Tensor;

import java.util.function.UnaryOperator;

/**
 * A stack of {@link ResidualAttentionBlock}s ({@code resblocks.<i>.}), batch-first: the full sequence
 * ({@link #forward}) or, faster, only the pooled position ({@link #forwardPooled}).
 *
 * <p>Each block runs in its own memory scope, so a block's intermediates are released when it ends (autograd keeps
 * what backward needs by its own references); without this a forward holds every layer's intermediates.
 */
public final class Transformer extends Module {
    private final int width, layers, heads;
    private final boolean crossAttention;
    private final ModuleList<ResidualAttentionBlock> resblocks;

    public Transformer(int width, int layers, int heads) {
        this(width, layers, heads, false);
    }

    /** With {@code crossAttention}, every block also attends to a memory sequence (a fusion encoder). */
    public Transformer(int width, int layers, int heads, boolean crossAttention) {
        this.width = width;
        this.layers = layers;
        this.heads = heads;
        this.crossAttention = crossAttention;
        resblocks = child("resblocks", new ModuleList<>(layers, i -> new ResidualAttentionBlock(width, heads, crossAttention)));
    }

    public int width() {
        return width;
    }

    public int layers() {
        return layers;
    }

    /** Every position through every block: x [B, L, W] → [B, L, W]; mask additive [L, L] or null. */
    public Tensor forward(Tensor x, Tensor mask) {
        for (ResidualAttentionBlock b : resblocks.items()) {
            try (Scope scope = Scope.open()) {
                x = scope.keep(b.forward(x, mask));
            }
        }
        return x;
    }

    /**
     * The general form: key-padding mask [B, L] (true = padding) and, for cross-attention blocks, the memory
     * sequence [B, M, W] with its padding; any of them may be null.
     */
    public Tensor forward(Tensor x, Tensor mask, Tensor padding, Tensor memory, Tensor memoryPadding) {
        for (ResidualAttentionBlock b : resblocks.items()) {
            try (Scope scope = Scope.open()) {
                x = scope.keep(b.forward(x, mask, padding, memory, memoryPadding));
            }
        }
        return x;
    }

    /**
     * The output at one position per sequence ({@code rows}: [B] int64), [B, W]: every block but the last on every
     * position, then the last block for the kept rows only. CLIP's towers pool a single token (class token,
     * end-of-text token), so the last block only needs that token's query, attention output and MLP: the other
     * positions enter only as keys and values. Same arithmetic for the kept rows, most of the last block saved.
     */
    public Tensor forwardPooled(Tensor x, Tensor mask, Tensor rows) {
        int n = resblocks.size();
        for (int i = 0; i < n; i++) {
            try (Scope scope = Scope.open()) {
                ResidualAttentionBlock b = resblocks.get(i);
                x = scope.keep(i < n - 1 ? b.forward(x, mask) : b.forwardPooled(x, mask, rows));
            }
        }
        return x;
    }

    /**
     * {@link #forwardPooled} in an ONNX graph: rows [B·L, width] in, each sequence's pooled row [B, width] out (see
     * {@link ResidualAttentionBlock#onnxPooled} for {@code pick} and {@code rowMask}; {@code mask} is [l, l] or null).
     */
    public String onnxPooled(OnnxGraph g, String x, Object l, String mask, UnaryOperator<String> pick, String rowMask) {
        int n = resblocks.size();
        for (int i = 0; i < n - 1; i++) x = resblocks.get(i).onnx(g, x, l, mask);
        return resblocks.get(n - 1).onnxPooled(g, x, l, pick, rowMask);
    }

    public ResidualAttentionBlock block(int i) {
        return resblocks.get(i);
    }

    /** OpenAI's re-initialisation of the transformer weights (std scaled by width and depth). */
    public void initializeLikeOpenAi() {
        double projStd = Math.pow(width, -0.5) * Math.pow(2.0 * layers, -0.5);
        double attnStd = Math.pow(width, -0.5);
        double fcStd = Math.pow(2.0 * width, -0.5);
        for (ResidualAttentionBlock b : resblocks.items()) {
            Init.fillNormal(b.attn().inProjWeight(), attnStd);
            Init.fillNormal(b.attn().outProj().weight(), projStd);
            Init.fillNormal(b.mlp().cFc().weight(), fcStd);
            Init.fillNormal(b.mlp().cProj().weight(), projStd);
        }
    }

    @Override
    protected Module blank() {
        return new Transformer(width, layers, heads, crossAttention);
    }
}
