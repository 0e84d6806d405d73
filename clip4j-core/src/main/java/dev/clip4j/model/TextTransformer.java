package dev.clip4j.model;

import dev.clip4j.torch.DType;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * CLIP's text tower (top-level names, as in OpenAI's {@code CLIP}): token and positional embeddings, a causal
 * transformer, ln_final, and the features at the end-of-text token (the highest id, {@code text.argmax(-1)})
 * projected by {@code text_projection}.
 */
final class TextTransformer extends Module {
    private final int contextLength;
    private final int vocabSize;
    private final Transformer transformer;
    private final LayerNorm lnFinal;

    TextTransformer(ParameterStore store, int contextLength, int vocabSize, int width, int layers, int heads, int embedDim) {
        super(store, "");
        this.contextLength = contextLength;
        this.vocabSize = vocabSize;
        transformer = new Transformer(store, "transformer.", width, layers, heads);
        param("token_embedding.weight", Init.normal(0.02, vocabSize, width));
        param("positional_embedding", Init.normal(0.01, contextLength, width));
        lnFinal = new LayerNorm(store, "ln_final.", width);
        param("text_projection", Init.normal(Math.pow(width, -0.5), width, embedDim));
    }

    Transformer transformer() {
        return transformer;
    }

    /** The additive causal mask: -inf above the diagonal. Built per call (it is tiny) so no scope can free a cached one. */
    private static Tensor causalMask(long length, DType type) {
        return Tensors.to(Tensors.full(Double.NEGATIVE_INFINITY, DType.F32, length, length).triu(1), type);
    }

    /** text: [B, L] int64 token ids with L ≤ context length; returns [B, embed_dim]. */
    Tensor forward(Tensor text) {
        long l = text.size(1);
        if (l > contextLength) {
            throw new IllegalArgumentException("token rows have " + l + " positions, the model's context length is " + contextLength);
        }
        if (text.numel() > 0) {
            long maxId = Tensors.toLongs(text.max())[0], minId = Tensors.toLongs(text.min())[0];
            if (maxId >= vocabSize || minId < 0) {
                throw new IllegalArgumentException("token id " + (minId < 0 ? minId : maxId) + " is outside the model's "
                        + "vocabulary of " + vocabSize + " (was it trained with CLIP's tokenizer?)");
            }
        }
        Tensor proj = p("text_projection");
        DType type = Tensors.dtype(proj);
        Tensor x = NN.embedding(p("token_embedding.weight"), text).to(proj.scalar_type());
        x = x.add(p("positional_embedding").narrow(0, 0, l).to(proj.scalar_type()));
        x = transformer.forwardAt(x, causalMask(l, type), NN.argmax(text, -1)); // the end-of-text token
        return lnFinal.forward(x).matmul(proj);
    }
}
