package dev.clip4j.adapt;

import dev.clip4j.InputException;
import dev.clip4j.model.ClipModel;
import dev.clip4j.model.TextTransformer;
import dev.clip4j.nn.Module;
import dev.clip4j.tokenizer.ClipTokenizer;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * CoOp's {@code PromptLearner}, as the seed's code builds it: each class's prompt {@code "X X … X <name>."} (or the
 * {@code ctxInit} phrase) is tokenized and embedded once with the frozen token embedding; {@code token_prefix} (SOS)
 * and {@code token_suffix} (the name's tokens, ".", EOS, padding) are kept fixed, and the learnable context vectors
 * {@code ctx} ([n_ctx, width], or [n_cls, n_ctx, width] class-specific) are placed between them, with the class
 * tokens at the end, middle or front. The prefix and suffix are recomputed from the class names on every load (the
 * seed: "they should be ignored in load_model()"), so only {@code ctx} is state.
 *
 * <p>Prompts are cut after the longest prompt's end token: the text tower is causal and pools at the end token, so
 * the later (padding) positions cannot change the features, and CPU time drops by the ratio of lengths.
 */
public class PromptLearner extends Module {
    private final List<String> classNames;
    private final int nCtx;
    private final String ctxInit;
    private final boolean classSpecific;
    private final ClassPosition position;
    private final int width;
    private final int[] nameLengths;
    /** [n_cls, 1, width], [n_cls, L − 1 − n_ctx, width], [n_cls]: fixed, outside any scope. */
    private final Tensor prefix, suffix, eot;

    /**
     * @param nCtx    the number of context vectors (ignored with {@code ctxInit}: its token count)
     * @param ctxInit a phrase whose token embeddings start the context ("a photo of a"), or null for N(0, 0.02)
     */
    public PromptLearner(ClipModel clip, List<String> classNames, int nCtx, String ctxInit, boolean classSpecific,
                         ClassPosition position) {
        if (classNames.isEmpty()) throw new InputException("no class names to learn prompts for");
        ClipTokenizer tok = ClipTokenizer.getDefault();
        TextTransformer text = clip.text();
        this.classNames = List.copyOf(classNames);
        this.ctxInit = ctxInit;
        this.classSpecific = classSpecific;
        this.position = position;
        this.width = text.width();
        int ctxLength = clip.contextLength();
        int[] initIds = ctxInit == null ? null : tok.encode(ctxInit.replace("_", " "));
        if (initIds != null && initIds.length == 0) throw new InputException("--ctx-init '" + ctxInit + "' has no tokens");
        this.nCtx = initIds != null ? initIds.length : nCtx;
        if (this.nCtx < 1 || this.nCtx > ctxLength - 3) {
            throw new InputException("--n-ctx must be 1 to " + (ctxLength - 3) + " (the context length less SOS, '.' and EOS), got " + this.nCtx);
        }
        String promptPrefix = ctxInit != null ? ctxInit.replace("_", " ") : String.join(" ", java.util.Collections.nCopies(this.nCtx, "X"));
        List<String> prompts = new ArrayList<>();
        nameLengths = new int[classNames.size()];
        for (int c = 0; c < classNames.size(); c++) {
            String name = classNames.get(c).replace("_", " ");
            nameLengths[c] = tok.encode(name).length;
            prompts.add(promptPrefix + " " + name + ".");
        }
        long[][] rows = new long[prompts.size()][];
        int longest = 0;
        for (int c = 0; c < prompts.size(); c++) {
            rows[c] = tok.tokenize(prompts.get(c), ctxLength, false); // a prompt that does not fit is an error
            int e = argmax(rows[c]);
            if (e != 1 + this.nCtx + nameLengths[c] + 1) {
                throw new InputException("class '" + classNames.get(c) + "': the prompt does not tokenize as context + name + '.'");
            }
            longest = Math.max(longest, e + 1);
        }
        for (int c = 0; c < rows.length; c++) rows[c] = java.util.Arrays.copyOf(rows[c], longest);
        try (Scope s = Scope.open()) {
            Tensor tokens = Tensors.fromRows(rows);
            Tensor emb = Grad.noGrad(() -> text.tokenEmbedding().forward(tokens));     // [n_cls, L, width]
            prefix = Scope.escape(emb.narrow(1, 0, 1).clone());
            suffix = Scope.escape(emb.narrow(1, 1 + this.nCtx, longest - 1 - this.nCtx).clone());
            eot = Scope.escape(NN.argmax(tokens, -1));
            Tensor init;
            if (initIds != null) {
                long[] ids = new long[initIds.length];
                for (int i = 0; i < ids.length; i++) ids[i] = initIds[i];
                Tensor phrase = Grad.noGrad(() -> text.tokenEmbedding().forward(Tensors.fromLongs(ids, ids.length)).clone());
                init = classSpecific ? phrase.unsqueeze(0).repeat(classNames.size(), 1, 1) : phrase;
            } else {
                init = dev.clip4j.nn.Init.normal(0.02, classSpecific ? new long[] {classNames.size(), this.nCtx, width}
                        : new long[] {this.nCtx, width});
            }
            parameter("ctx", Scope.escape(init.contiguous()));
        }
    }

    private static int argmax(long[] row) {
        int best = 0;
        for (int i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    public Tensor ctx() {
        return p("ctx");
    }

    public List<String> classNames() {
        return classNames;
    }

    public int contextCount() {
        return nCtx;
    }

    public String contextInit() {
        return ctxInit;
    }

    public boolean classSpecific() {
        return classSpecific;
    }

    public ClassPosition position() {
        return position;
    }

    /** The end-token position of every class's prompt [n_cls]. */
    public Tensor eotIndex() {
        return eot;
    }

    /** The prompts' token embeddings [n_cls, L, width], context in place, before positional embeddings. */
    public Tensor prompts() {
        return assemble(contextPerClass());
    }

    /** The context of each class [n_cls, n_ctx, width] (the unified context broadcast). */
    protected Tensor contextPerClass() {
        Tensor ctx = ctx();
        long n = classNames.size();
        return classSpecific ? ctx : ctx.unsqueeze(0).expand(n, nCtx, width);
    }

    /** Prefix, context [n_cls, n_ctx, width] and suffix, with the class tokens where {@link #position} says. */
    protected Tensor assemble(Tensor ctx) {
        if (position == ClassPosition.END) return Tensors.cat(1, prefix, ctx, suffix);
        int n = classNames.size(), half = nCtx / 2;
        Tensor[] rows = new Tensor[n];
        for (int c = 0; c < n; c++) {
            int len = nameLengths[c];
            Tensor pre = prefix.narrow(0, c, 1), cx = ctx.narrow(0, c, 1), suf = suffix.narrow(0, c, 1);
            Tensor name = suf.narrow(1, 0, len), rest = suf.narrow(1, len, suf.size(1) - len);
            rows[c] = position == ClassPosition.MIDDLE
                    ? Tensors.cat(1, pre, cx.narrow(1, 0, half), name, cx.narrow(1, half, nCtx - half), rest)
                    : Tensors.cat(1, pre, name, cx, rest);
        }
        return Tensors.cat(0, rows);
    }

    /** CoOp's {@code TextEncoder}: the prompts through CLIP's text tower, pooled at each end token: [n_cls, embed_dim]. */
    public Tensor classFeatures(ClipModel clip) {
        return clip.text().encode(clip.text().withPositions(prompts()), eot, true);
    }

    @Override
    protected boolean decays(String name, Tensor parameter) {
        return true; // SGD's L2 decay covers ctx, as Dassl's optimizer
    }

    @Override
    protected Module blank() {
        throw new UnsupportedOperationException("PromptLearner is rebuilt from its class names and settings, not copied");
    }
}
