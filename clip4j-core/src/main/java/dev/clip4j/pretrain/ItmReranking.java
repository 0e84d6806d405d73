package dev.clip4j.pretrain;

import dev.clip4j.InputException;
import dev.clip4j.checkpoint.Safetensors;
import dev.clip4j.data.BatchLoader;
import dev.clip4j.data.ImageTextDataset;
import dev.clip4j.eval.Retrieval;
import dev.clip4j.eval.RetrievalResult;
import dev.clip4j.eval.Similarity;
import dev.clip4j.model.ClipModel;
import dev.clip4j.model.TextTransformer;
import dev.clip4j.model.VisionTransformer;
import dev.clip4j.tokenizer.ClipTokenizer;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import dev.clip4j.train.RunCheckpoint;
import dev.clip4j.train.TrainOptions;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ALBEF's retrieval: rank every candidate by ITC (the unimodal features' cosine), then re-rank each query's top K by
 * the fusion model's ITM score, the logit of the "matched" class, as ALBEF's evaluation does ({@link Score#ITM}); or
 * by that logit plus the ITC cosine, as BLIP's does ({@link Score#ITM_PLUS_ITC}). The top K stay above the rest.
 * Image tokens and text states of the whole set are kept in memory (float32), bounded by {@link #MAX_CACHE_BYTES}.
 */
public final class ItmReranking {
    /** Image tokens plus text states kept for re-ranking: beyond this the evaluation refuses, naming the limit. */
    public static final long MAX_CACHE_BYTES = 4L << 30;

    private ItmReranking() {}

    /** How the top K are re-scored. */
    public enum Score {
        /** ALBEF: the ITM head's matched-class logit. */
        ITM("itm"),
        /** BLIP: that logit plus the pair's ITC cosine. */
        ITM_PLUS_ITC("itm+itc");

        public final String id;

        Score(String id) {
            this.id = id;
        }

        public static Score parse(String s) {
            for (Score v : values()) if (v.id.equals(s)) return v;
            throw new InputException("re-ranking score must be itm (ALBEF's) or itm+itc (BLIP's), got '" + s + "'");
        }
    }

    /** The fusion model of a pretraining run's checkpoint (a run directory or its checkpoint directory). */
    public static FusionModel loadFusion(Path checkpoint, ClipModel model) throws IOException {
        Path mark = checkpoint.resolve("trainer.json"), extra = checkpoint.resolve("objective.safetensors");
        if (!Files.isRegularFile(mark) || !Files.isRegularFile(extra)) {
            throw new InputException(checkpoint + ": not a pretraining checkpoint (no trainer.json and objective.safetensors); "
                    + "ITM re-ranking needs a run of ./clip4j pretrain");
        }
        TrainOptions o = RunCheckpoint.read(checkpoint).options();
        if (o.pretrain() == null || !o.pretrain().modelType().equals(PretrainOptions.FUSION)) {
            throw new InputException(checkpoint + ": not a fusion-model pretraining run; ITM re-ranking needs one");
        }
        if (!(model.visual() instanceof VisionTransformer vit)) throw new InputException(checkpoint + ": its image tower is not a ViT");
        FusionModel fusion = dev.clip4j.nn.Init.skipping(() -> new FusionModel(model.config().transformerWidth(), vit.width(),
                o.pretrain().fusionLayers(), model.config().transformerHeads(), model.config().vocabSize()));
        Map<String, Tensor> mine = new LinkedHashMap<>();
        Safetensors.read(extra).forEach((k, v) -> {
            if (k.startsWith("fusion.")) mine.put(k.substring("fusion.".length()), v);
        });
        try {
            fusion.load(mine, extra + " (fusion)");
        } catch (IllegalArgumentException e) {
            throw new InputException(e.getMessage());
        }
        fusion.train(false);
        return fusion;
    }

    /** Retrieval both ways, ITC then ITM over each query's top {@code k}. */
    public static RetrievalResult evaluate(ClipModel model, FusionModel fusion, ImageTextDataset data, int batchSize, int k,
                                           Score score) {
        if (k < 1) throw new InputException("--rerank-itm must be at least 1, got " + k);
        if (!model.text().bidirectional() || !(model.visual() instanceof VisionTransformer vision)) {
            throw new InputException("ITM re-ranking needs a pretrained fusion model's encoders (ViT, bidirectional text)");
        }
        int n = data.size();
        List<String> captions = Retrieval.captions(data);
        int[] group = Retrieval.groups(captions);
        long[][] rows = ClipTokenizer.getDefault().tokenize(captions, model.contextLength(), true);
        int ctx = model.contextLength();
        long[] all = new long[n * ctx];
        for (int i = 0; i < n; i++) System.arraycopy(rows[i], 0, all, i * ctx, ctx);
        int len = PretrainSteps.usedLength(all, n, ctx);
        long tokensPerImage = (long) Math.pow(model.imageResolution() / (double) model.config().visionPatchSize(), 2) + 1;
        long bytes = 4L * n * (tokensPerImage * vision.width() + (long) len * model.config().transformerWidth());
        if (bytes > MAX_CACHE_BYTES) {
            throw new InputException(data.name() + ": re-ranking " + n + " pairs keeps " + (bytes >> 20) + " MB of image tokens "
                    + "and text states, over the limit of " + (MAX_CACHE_BYTES >> 20) + " MB; evaluate a smaller set");
        }
        Tensor imageTokens = Tensors.empty(DType.F32, n, tokensPerImage, vision.width());
        float[][] img = new float[n][], txt = new float[n][];
        int res = model.imageResolution();
        try (BatchLoader loader = BatchLoader.evaluation(data, batchSize, res, model.contextLength(), false)) {
            int at = 0;
            for (BatchLoader.Batch next; (next = loader.next()) != null; at += next.size()) {
                dev.clip4j.io.StopSignal.check();
                int start = at;
                BatchLoader.Batch b = next;
                try (Scope s = Scope.open()) {
                    Tensor x = Tensors.fromFloats(b.images(), b.size(), 3, res, res);
                    Grad.noGrad(() -> {
                        Tensor tok = vision.encodeTokens(x);
                        imageTokens.narrow(0, start, b.size()).copy_(tok);
                        float[][] f = Tensors.toMatrix(NN.l2Normalize(Tensors.to(vision.project(tok.select(1, 0)), DType.F32)));
                        System.arraycopy(f, 0, img, start, f.length);
                    });
                }
            }
        }
        Tensor tokens = Tensors.fromLongs(PretrainSteps.trim(all, n, ctx, len), n, len);
        Tensor eot = TextTransformer.endOfText(tokens), padding = TextTransformer.paddingAfter(eot, len);
        Tensor states = Tensors.empty(DType.F32, n, len, model.config().transformerWidth());
        TextTransformer text = model.text();
        for (int start = 0; start < n; start += batchSize) {
            int m = Math.min(batchSize, n - start), from = start;
            try (Scope s = Scope.open()) {
                Grad.noGrad(() -> {
                    Tensor e = eot.narrow(0, from, m);
                    Tensor st = text.states(text.embed(tokens.narrow(0, from, m)), e);
                    states.narrow(0, from, m).copy_(st);
                    float[][] f = Tensors.toMatrix(NN.l2Normalize(Tensors.to(text.pool(st, e), DType.F32)));
                    System.arraycopy(f, 0, txt, from, m);
                });
            }
        }
        float[][] i2t = Similarity.scores(img, txt), t2i = Similarity.scores(txt, img);
        rerank(i2t, k, score, (q, cands) -> match(fusion, states.index_select(0, cands), padding.index_select(0, cands),
                imageTokens.select(0, q).unsqueeze(0).expand(new long[] {cands.size(0), -1, -1}))); 
        rerank(t2i, k, score, (q, cands) -> match(fusion, states.select(0, q).unsqueeze(0).expand(new long[] {cands.size(0), -1, -1}),
                padding.select(0, q).unsqueeze(0).expand(new long[] {cands.size(0), -1}), imageTokens.index_select(0, cands)));
        return new RetrievalResult(data.name() + " (ITC, then " + score.id + " over the top " + k + ")", n, Retrieval.recall(i2t, group),
                Retrieval.recall(t2i, group));
    }

    private interface PairScorer {
        float[] score(int query, Tensor candidates);
    }

    private static float[] match(FusionModel fusion, Tensor states, Tensor padding, Tensor imageTokens) {
        return Tensors.toFloats(Grad.noGrad(() -> Tensors.to(fusion.itm(fusion.encoder().forward(states, padding, imageTokens)),
                DType.F32).select(1, 1).contiguous()));
    }

    /** Above every cosine: the top K are ranked among themselves only. */
    private static final float TOP = 1e4f;

    /** Each row's top k (by its ITC scores) get {@code TOP +} their new score, so they stay first, in the new order. */
    private static void rerank(float[][] scores, int k, Score score, PairScorer scorer) {
        for (int q = 0; q < scores.length; q++) {
            dev.clip4j.io.StopSignal.check();
            float[] row = scores[q];
            int kk = Math.min(k, row.length);
            Integer[] order = new Integer[row.length];
            for (int i = 0; i < row.length; i++) order[i] = i;
            java.util.Arrays.sort(order, (a, b) -> Float.compare(row[b], row[a]));
            long[] top = new long[kk];
            for (int i = 0; i < kk; i++) top[i] = order[i];
            try (Scope s = Scope.open()) {
                float[] p = scorer.score(q, Tensors.fromLongs(top, kk));
                for (int i = 0; i < kk; i++) {
                    int c = (int) top[i];
                    row[c] = TOP + p[i] + (score == Score.ITM_PLUS_ITC ? row[c] : 0);
                }
            }
        }
    }
}
