package dev.clip4j.model;

import dev.clip4j.nn.Embedding;
import dev.clip4j.nn.Init;
import dev.clip4j.nn.LayerNorm;
import dev.clip4j.nn.Module;
import dev.clip4j.nn.Transformer;
import dev.clip4j.onnx.OnnxGraph;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * CLIP's text tower (top-level names, as in OpenAI's {@code CLIP}: it is inlined into {@link ClipModel}): token
 * and positional embeddings ({@link #embed}), a causal transformer, ln_final, and the features at the end-of-text
 * token projected by {@code text_projection} ({@link #encode}). {@code encode_text} is {@link #encodeText}, the
 * composition; prompt learners (CoOp) call {@link #encode} on embeddings they build themselves.
 */
public final class TextTransformer extends Module {
    private final int contextLength, vocabSize, width, layers, heads, embedDim;
    private final boolean bidirectional;
    private final Transformer transformer;
    private final Embedding tokenEmbedding;
    private final LayerNorm lnFinal;

    public TextTransformer(int contextLength, int vocabSize, int width, int layers, int heads, int embedDim) {
        this(contextLength, vocabSize, width, layers, heads, embedDim, false);
    }

    /**
     * With {@code bidirectional}, every token attends to every non-padding token (the positions after end-of-text are
     * masked as keys), as a BERT-style text encoder of a fusion model; CLIP's tower is causal.
     */
    public TextTransformer(int contextLength, int vocabSize, int width, int layers, int heads, int embedDim,
                           boolean bidirectional) {
        this.bidirectional = bidirectional;
        this.contextLength = contextLength;
        this.vocabSize = vocabSize;
        this.width = width;
        this.layers = layers;
        this.heads = heads;
        this.embedDim = embedDim;
        transformer = child("transformer", new Transformer(width, layers, heads));
        tokenEmbedding = child("token_embedding", new Embedding(vocabSize, width, 0.02));
        parameter("positional_embedding", Init.normal(0.01, contextLength, width));
        lnFinal = child("ln_final", new LayerNorm(width));
        parameter("text_projection", Init.normal(Math.pow(width, -0.5), width, embedDim));
    }

    public Transformer transformer() {
        return transformer;
    }

    public Embedding tokenEmbedding() {
        return tokenEmbedding;
    }

    public int width() {
        return width;
    }

    /** The additive causal mask: -inf above the diagonal. Built per call (it is tiny) so no scope can free a cached one. */
    public static Tensor causalMask(long length, DType type) {
        return Tensors.to(Tensors.full(Double.NEGATIVE_INFINITY, DType.F32, length, length).triu(1), type);
    }

    /** tokens: [B, L] int64 ids (L ≤ context length) → token plus positional embeddings [B, L, width]. */
    public Tensor embed(Tensor tokens) {
        checkTokens(tokens);
        Tensor proj = p("text_projection");
        return withPositions(tokenEmbedding.forward(tokens).to(proj.scalar_type()));
    }

    /** Rejects token rows longer than the context or ids outside the vocabulary, naming the limit (both backends). */
    public void checkTokens(Tensor tokens) {
        long l = tokens.size(1);
        if (l > contextLength) {
            throw new IllegalArgumentException("token rows have " + l + " positions, the model's context length is " + contextLength);
        }
        if (tokens.numel() > 0) {
            long maxId = Tensors.toLongs(tokens.max())[0], minId = Tensors.toLongs(tokens.min())[0];
            if (maxId >= vocabSize || minId < 0) {
                throw new IllegalArgumentException("token id " + (minId < 0 ? minId : maxId) + " is outside the model's "
                        + "vocabulary of " + vocabSize + " (was it trained with CLIP's tokenizer?)");
            }
        }
    }

    /**
     * Token embeddings [B, L, width] (L ≤ context length) plus the positional embeddings of positions 0..L-1, in the
     * tower's dtype: what {@link #embed} adds after the lookup, for prompt learners that assemble token embeddings
     * themselves (CoOp moves class-name tokens between context vectors before positions are added).
     */
    public Tensor withPositions(Tensor tokenEmbeddings) {
        long l = tokenEmbeddings.size(1);
        if (l > contextLength) {
            throw new IllegalArgumentException("embeddings have " + l + " positions, the model's context length is " + contextLength);
        }
        Tensor proj = p("text_projection");
        return tokenEmbeddings.to(proj.scalar_type()).add(p("positional_embedding").narrow(0, 0, l).to(proj.scalar_type()));
    }

    /**
     * embeddings [B, L, width] → the projected feature at position {@code eotIndex[b]} of each row [B, embed_dim],
     * through the transformer with the causal mask (as CLIP) or without.
     */
    public Tensor encode(Tensor embeddings, Tensor eotIndex, boolean causal) {
        if (causal) embeddings = throughLastEndOfText(embeddings, eotIndex);
        long l = embeddings.size(1);
        Tensor proj = p("text_projection");
        Tensor mask = causal ? causalMask(l, Tensors.dtype(proj)) : null;
        Tensor x = transformer.forwardPooled(embeddings, mask, eotIndex);
        return lnFinal.forward(x).matmul(proj);
    }

    /**
     * The positions up to the batch's last end-of-text token. Under the causal mask a position's state depends only on
     * the positions before it, so those after every row's end of text never reach a pooled feature: CLIP computes all
     * 77 for prompts of ~10 tokens, and the tower's work scales with the positions kept. The features are the same up
     * to float rounding (the kept positions' sums over keys lose only exact zeros, which a kernel may block differently).
     */
    static Tensor throughLastEndOfText(Tensor embeddings, Tensor eotIndex) {
        if (eotIndex.numel() == 0) return embeddings;
        long keep = Tensors.toLongs(eotIndex.max())[0] + 1;
        return keep < embeddings.size(1) ? embeddings.narrow(1, 0, keep) : embeddings;
    }

    /**
     * CLIP's {@code encode_text}: tokens [B, L] → [B, embed_dim], pooled at the end-of-text token (the highest id); a
     * bidirectional tower pools at the first end-of-text token and masks the padding after it.
     */
    public Tensor encodeText(Tensor tokens) {
        if (!bidirectional) return encode(embed(tokens), NN.argmax(tokens, -1), true);
        Tensor eot = endOfText(tokens);
        return pool(states(embed(tokens), eot), eot);
    }

    /**
     * CLIP's causal {@link #encodeText} in an ONNX graph, for token rows of any length up to the context's (the caller
     * leaves out the positions after the last end of text, as {@link #encode} does): {@code tokens} [B, L] int64,
     * {@code eot} [B] each row's end-of-text position (the argmax of its ids) and {@code flatEot} [B] the same as an
     * index into the B·L rows ({@code b·L + eot[b]}). Returns [B, embed_dim].
     */
    public String onnx(OnnxGraph g, String tokens, String eot, String flatEot) {
        if (bidirectional) throw new IllegalStateException("a bidirectional text tower has no ONNX form");
        String l = g.size(tokens, 1);                                                            // L, when it runs
        String x = g.gather(g.weight(tokenEmbedding.weight()), tokens, 0);                       // [B, L, width]
        x = g.reshape(g.add(x, g.narrow(g.weight(p("positional_embedding")), 0, l)), -1, width); // rows [B·L, width]
        String mask = g.narrow(g.narrow(g.weight(causalMask(contextLength, DType.F32)), 0, l), 1, l);
        String rowMask = g.reshapeTo(g.gather(mask, eot, 0), -1, 1, 1, l);
        x = transformer.onnxPooled(g, x, l, mask, v -> g.gather(v, flatEot, 0), rowMask);
        return g.matmul(lnFinal.onnx(g, x), g.weight(p("text_projection")));
    }

    public boolean bidirectional() {
        return bidirectional;
    }

    /**
     * The position of each row's first end-of-text token, [B] int64: where a bidirectional tower pools, and where its
     * padding starts. (CLIP's argmax of the ids would find a [MASK] token, whose id is above end-of-text.)
     */
    public static Tensor endOfText(Tensor tokens) {
        Tensor isEot = dev.clip4j.torch.Ops.eq(tokens, dev.clip4j.tokenizer.ClipTokenizer.EOT);
        if (tokens.numel() > 0 && !isEot.any(1).all().item_bool()) {
            throw new IllegalArgumentException("a token row has no end-of-text token (" + dev.clip4j.tokenizer.ClipTokenizer.EOT + ")");
        }
        return NN.argmax(Tensors.to(isEot, DType.I64), -1);
    }

    /** True at the positions after each row's end-of-text token ({@code eot}: [B]): [B, length] bool. */
    public static Tensor paddingAfter(Tensor eot, long length) {
        return Tensors.arange(length).reshape(1, length).gt(eot.reshape(eot.size(0), 1));
    }

    /**
     * The transformer's output at every position before ln_final (the residual stream), [B, L, width], for
     * embeddings [B, L, width]: causal as CLIP, or bidirectional over the positions up to each row's {@code eot}.
     */
    public Tensor states(Tensor embeddings, Tensor eot) {
        long l = embeddings.size(1);
        if (!bidirectional) return transformer.forward(embeddings, causalMask(l, Tensors.dtype(p("text_projection"))));
        return transformer.forward(embeddings, null, paddingAfter(eot, l), null, null);
    }

    /** ln_final at each row's {@code eot} position, projected: [B, embed_dim], from {@link #states}. */
    public Tensor pool(Tensor states, Tensor eot) {
        return lnFinal.forward(dev.clip4j.nn.MultiheadAttention.gather(states, eot)).matmul(p("text_projection"));
    }

    /** ln_final of {@link #states} (what a fusion encoder or a token-wise score reads). */
    public Tensor finalNorm(Tensor states) {
        return lnFinal.forward(states);
    }

    /** Every position's output after ln_final (unprojected): [B, L, width]. */
    public Tensor encodeTokens(Tensor tokens) {
        Tensor eot = bidirectional ? endOfText(tokens) : null;
        return lnFinal.forward(states(embed(tokens), eot));
    }

    /** Every position projected into the shared space, [B, L, embed_dim], for token-wise scoring ({@link Scoring}). */
    public Tensor encodeTokenFeatures(Tensor tokens) {
        return encodeTokens(tokens).matmul(p("text_projection"));
    }

    @Override
    protected boolean decays(String name, Tensor parameter) {
        return name.equals("text_projection");
    }

    @Override
    protected Module blank() {
        return new TextTransformer(contextLength, vocabSize, width, layers, heads, embedDim, bidirectional);
    }
}
