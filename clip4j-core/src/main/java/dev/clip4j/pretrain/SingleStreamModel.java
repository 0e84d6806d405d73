package dev.clip4j.pretrain;

import dev.clip4j.model.ClipModel;
import dev.clip4j.model.TextTransformer;
import dev.clip4j.nn.Init;
import dev.clip4j.nn.Linear;
import dev.clip4j.nn.Module;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * The single-stream model of the seed (the QQ Browser 2021 winner's): one encoder over
 * {@code [CLS] + visual tokens + [SEP] + text tokens} with a joint padding mask. The encoder is the run's
 * {@link ClipModel} text tower run bidirectionally (its token and positional embeddings for the text, its
 * transformer and ln_final for the joint sequence, as the seed's BERT); this module adds what the visual side
 * and the heads need:
 * <ul>
 *   <li>{@code visual_proj}: frame features [D] (or the ViT's patch embeddings) to the encoder width, then
 *       {@code visual_positions} and a type embedding, as the seed's {@code video_fc} and video embeddings;</li>
 *   <li>{@code type_embedding}: [2, width], visual (0) and text (1) tokens;</li>
 *   <li>{@code mlm_head} (decoder tied to the token embeddings), {@code mfm_head} with its own decoder to the
 *       frame dimension ({@code mfm_decoder}, the seed's VisualLMPredictionHead), {@code itm_head} (2-way).</li>
 * </ul>
 * [CLS] is CLIP's start-of-text token at position 0, [SEP] the end-of-text token's embedding after the visual tokens;
 * the text follows from its second token on (so its own end-of-text closes the sequence).
 */
public final class SingleStreamModel extends Module {
    private final int width, visualDim, maxVisual, vocab;
    private final Linear visualProj, itmHead;
    private final MlmHead mlmHead, mfmHead;

    public SingleStreamModel(int width, int visualDim, int maxVisual, int vocab) {
        this.width = width;
        this.visualDim = visualDim;
        this.maxVisual = maxVisual;
        this.vocab = vocab;
        visualProj = child("visual_proj", new Linear(visualDim, width));
        parameter("visual_positions", Init.normal(0.01, maxVisual, width));
        parameter("type_embedding", Init.normal(0.02, 2, width));
        mlmHead = child("mlm_head", new MlmHead(width, vocab));
        mfmHead = child("mfm_head", new MlmHead(width, visualDim));
        parameter("mfm_decoder", Init.normal(Math.pow(width, -0.5), visualDim, width));
        itmHead = child("itm_head", new Linear(width, 2));
    }

    /** Where the joint sequence keeps things, for T visual tokens. */
    public static int visualStart() {
        return 1;
    }

    /** The joint position of text token j ≥ 1 (token 0 is [CLS] at position 0). */
    public static int textPosition(int visualTokens, int j) {
        return visualTokens + 1 + j;
    }

    /**
     * The encoder's output over the joint sequence [B, 1 + T + 1 + (L − 1), width], after ln_final.
     *
     * @param visual      [B, T, visualDim] frame features (zeroed where MFM masked them) or patch embeddings
     * @param visualValid [B, T] bool, true where a visual token exists
     * @param tokens      [B, L] (possibly MLM-corrupted) token rows; {@code eot} their end-of-text positions
     */
    public Tensor forward(ClipModel clip, Tensor visual, Tensor visualValid, Tensor tokens, Tensor eot) {
        TextTransformer text = clip.text();
        long b = tokens.size(0), l = tokens.size(1), t = visual.size(1);
        if (t > maxVisual) throw new IllegalArgumentException(t + " visual tokens, the model holds positions for " + maxVisual);
        Tensor types = p("type_embedding");
        Tensor txt = text.embed(tokens);
        txt = txt.add(types.select(0, 1).to(txt.scalar_type()));
        Tensor vis = visualProj.forward(visual.to(txt.scalar_type()));
        vis = vis.add(p("visual_positions").narrow(0, 0, t).to(vis.scalar_type())).add(types.select(0, 0).to(vis.scalar_type()));
        Tensor sep = text.tokenEmbedding().forward(Tensors.full(PretrainVocabulary.SEP, DType.I64, b, 1)).to(txt.scalar_type())
                .add(types.select(0, 0).to(txt.scalar_type()));
        Tensor joint = Tensors.cat(1, txt.narrow(1, 0, 1), vis, sep, txt.narrow(1, 1, l - 1));
        Tensor noPad = Tensors.zeros(DType.BOOL, b, 1);
        Tensor textPad = TextTransformer.paddingAfter(eot, l).narrow(1, 1, l - 1);
        Tensor padding = Tensors.cat(1, noPad, Tensors.to(visualValid, DType.BOOL).logical_not(), noPad, textPad);
        Tensor x = text.transformer().forward(joint, null, padding, null, null);
        return text.finalNorm(x);
    }

    /** ITM scores [B, 2] from the fused [CLS]. */
    public Tensor itm(Tensor fused) {
        return itmHead.forward(fused.select(1, 0));
    }

    /** MLM scores [N, vocab] for hidden states [N, width], decoded by the tied token embeddings. */
    public Tensor mlm(Tensor hidden, Tensor tokenEmbeddings) {
        return mlmHead.forward(hidden, tokenEmbeddings);
    }

    /** MFM predictions [B, T, visualDim] at the visual positions of the fused sequence. */
    public Tensor mfm(Tensor fused, int visualTokens) {
        Tensor h = fused.narrow(1, visualStart(), visualTokens);
        long b = h.size(0);
        return mfmHead.forward(h.reshape(b * visualTokens, width), p("mfm_decoder")).reshape(b, visualTokens, visualDim);
    }

    @Override
    protected Module blank() {
        return new SingleStreamModel(width, visualDim, maxVisual, vocab);
    }
}
