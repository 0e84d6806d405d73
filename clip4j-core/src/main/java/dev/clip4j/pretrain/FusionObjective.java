package dev.clip4j.pretrain;

import dev.clip4j.model.ClipModel;
import dev.clip4j.model.TextTransformer;
import dev.clip4j.model.VisionTransformer;
import dev.clip4j.nn.Module;
import dev.clip4j.torch.Autocast;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.Tensors;
import dev.clip4j.train.Objective;
import dev.clip4j.train.ParameterGroups;
import dev.clip4j.train.TrainBatch;
import dev.clip4j.train.TrainOptions;
import org.bytedeco.pytorch.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * ALBEF's pretraining of a fusion model: ITA (contrastive with momentum distillation and queues), ITM (hard or
 * shuffled negatives through the fusion encoder) and MLM (through the fusion encoder, distilled from the momentum
 * model), any subset, weighted. The unimodal encoders are the run's {@link ClipModel} (ViT image tower, bidirectional
 * text tower), so {@code embed}, {@code classify}, {@code index} and {@code eval retrieval} use them as they are.
 *
 * <p>Per step: the image tokens (every position after ln_post) and the text's residual stream are computed once; the
 * ITC features are the projected class token and end-of-text token. ITM fuses the positive pairs and the negatives in
 * one batch; MLM re-encodes the masked text (ALBEF's second pass) and scores only the chosen positions. The model's
 * {@code logit_scale} is not trained: it follows ln(1/temp) (capped at ln 100) so zero-shot scores use ITA's temperature.
 */
public final class FusionObjective implements Objective {
    private final ClipModel model;
    private final VisionTransformer vision;
    private final TrainOptions options;
    private final PretrainOptions p;
    private final FusionModel fusion;
    private final ItaState ita;
    private final MomentumModels momentum;
    private final Map<String, Tensor> trainable = new LinkedHashMap<>();
    private long step;
    private double alphaNow;

    public FusionObjective(ClipModel model, TrainOptions options) {
        this.model = model;
        this.options = options;
        this.p = options.pretrain();
        if (!(model.visual() instanceof VisionTransformer vit)) {
            throw new dev.clip4j.InputException("the fusion model cross-attends to image tokens: its image tower must be a ViT");
        }
        if (!model.text().bidirectional()) throw new IllegalStateException("a fusion model's text tower must be bidirectional");
        this.vision = vit;
        int width = model.config().transformerWidth();
        fusion = new FusionModel(width, vit.width(), p.fusionLayers(), model.config().transformerHeads(), model.config().vocabSize());
        ita = new ItaState(model.config().embedDim(), p.has(PretrainOptions.ITA) ? p.queueSize() : 0);
        momentum = usesMomentum() ? new MomentumModels(model, fusion) : null;
        fusion.train(true);
        ParameterGroups.trainable(model, options.lockImage(), options.lockText()).forEach((k, v) -> {
            if (!k.equals("logit_scale")) trainable.put(k, v);
        });
        model.logitScaleParameter().requires_grad_(false); // after trainable(), which unfreezes the model
        fusion.namedParameters().forEach((k, v) -> trainable.put("fusion." + k, v));
        if (p.has(PretrainOptions.ITA)) trainable.put("ita.temp", ita.temperature());
        else ita.temperature().requires_grad_(false);
    }

    /** Momentum copies are needed for ITA's queue or distillation, and for MLM's distillation. */
    private boolean usesMomentum() {
        boolean itaNeeds = p.has(PretrainOptions.ITA) && (p.alpha() > 0 || p.queueSize() > 0);
        boolean mlmNeeds = p.has(PretrainOptions.MLM) && p.alpha() > 0;
        return itaNeeds || mlmNeeds;
    }

    @Override
    public ClipModel model() {
        return model;
    }

    public FusionModel fusion() {
        return fusion;
    }

    public ItaState ita() {
        return ita;
    }

    /** The momentum copies, or null when no task uses them. */
    public MomentumModels momentum() {
        return momentum;
    }

    @Override
    public Map<String, Module> extraModules() {
        Map<String, Module> m = new LinkedHashMap<>();
        m.put("fusion", fusion);
        m.put("ita", ita);
        if (momentum != null) m.put("momentum", momentum);
        return m;
    }

    @Override
    public Map<String, Tensor> trainableParameters() {
        return trainable;
    }

    @Override
    public boolean decays(String name) {
        if (name.startsWith("fusion.")) return fusion.decays(name.substring("fusion.".length()));
        if (name.startsWith("ita.")) return false;
        return model.decays(name);
    }

    @Override
    public void beforeStep(long step, double epoch) {
        this.step = step;
        this.alphaNow = PretrainSteps.alpha(p.alpha(), epoch);
    }

    /** The unimodal outputs of one encoder pair: image tokens, text residual stream, normalised ITC features. */
    private record Encoded(Tensor imageTokens, Tensor textStates, Tensor imageFeature, Tensor textFeature) {}

    private static Encoded encode(ClipModel clip, Tensor images, Tensor tokens, Tensor eot) {
        VisionTransformer v = (VisionTransformer) clip.visual();
        TextTransformer t = clip.text();
        Tensor imageTokens = v.encodeTokens(images);
        Tensor states = t.states(t.embed(tokens), eot);
        Tensor imageFeature = NN.l2Normalize(Tensors.to(v.project(imageTokens.select(1, 0)), DType.F32));
        Tensor textFeature = NN.l2Normalize(Tensors.to(t.pool(states, eot), DType.F32));
        return new Encoded(imageTokens, states, imageFeature, textFeature);
    }

    @Override
    public Map<String, Double> step(TrainBatch batch) {
        PretrainSteps.Text text = PretrainSteps.text(batch, options.seed(), step);
        int n = text.rows(), len = text.length();
        Tensor tokens = text.tokens();
        TaskLosses losses = new TaskLosses(p);
        Encoded m = null;
        try (Autocast ac = options.bf16() ? Autocast.bf16() : null) {
            Tensor eot = TextTransformer.endOfText(tokens);
            Tensor padding = TextTransformer.paddingAfter(eot, len);
            Encoded e = encode(model, batch.images(), tokens, eot);
            if (momentum != null) {
                m = Grad.noGrad(() -> encode(momentum.clip(), batch.images(), tokens, eot));
            }
            ItaLoss.Result itaResult = null;
            if (p.has(PretrainOptions.ITA)) {
                FeatureQueue q = ita.queue();
                Tensor imgM = m == null ? e.imageFeature().detach() : m.imageFeature();
                Tensor txtM = m == null ? e.textFeature().detach() : m.textFeature();
                itaResult = ItaLoss.of(e.imageFeature(), e.textFeature(), imgM, txtM, q == null ? null : q.images(),
                        q == null ? null : q.texts(), ita.temperature(), m == null ? 0 : alphaNow);
                losses.add(PretrainOptions.ITA, itaResult.loss());
            }
            if (p.has(PretrainOptions.ITM)) {
                losses.add(PretrainOptions.ITM, itm(e, padding, itaResult, text.sameCaption(), text.random(), n));
            }
            if (p.has(PretrainOptions.MLM)) {
                Tensor mlm = mlm(e, m, text.ids(), n, len, eot, padding, text.random());
                if (mlm != null) losses.add(PretrainOptions.MLM, mlm);
            }
        }
        if (losses.total() == null) throw new IllegalStateException("no task produced a loss");
        losses.total().backward();
        if (m != null && ita.queue() != null) ita.queue().push(m.imageFeature(), m.textFeature());
        return losses.report();
    }

    /** ITM: the batch's positive pairs plus one negative image per text and one negative text per image (or the seed's shuffle). */
    private Tensor itm(Encoded e, Tensor padding, ItaLoss.Result itaResult, boolean[][] same, SplittableRandom random, int n) {
        ItmNegatives.Pairs pairs;
        if (p.itmNegatives().equals(PretrainOptions.HARD)) {
            float[][] t2i, i2t;
            if (itaResult != null) {
                t2i = Tensors.toMatrix(itaResult.textToImage().detach().narrow(1, 0, n));
                i2t = Tensors.toMatrix(itaResult.imageToText().detach().narrow(1, 0, n));
            } else {
                Tensor sim = Grad.noGrad(() -> e.imageFeature().matmul(e.textFeature().t()).div(ita.temperature().detach()));
                i2t = Tensors.toMatrix(sim);
                t2i = Tensors.toMatrix(sim.t().contiguous());
            }
            pairs = ItmNegatives.hardPairs(t2i, i2t, same, random);
        } else {
            pairs = ItmNegatives.shufflePairs(n, same);
        }
        Tensor fused = fusion.encoder().forward(pairs.selectText(e.textStates()), pairs.selectText(padding),
                pairs.selectVisual(e.imageTokens()));
        return NN.crossEntropy(Tensors.to(fusion.itm(fused), DType.F32), pairs.labelTensor());
    }

    /** MLM through the fusion encoder at the chosen positions, distilled from the momentum model; null if none chosen. */
    private Tensor mlm(Encoded e, Encoded m, long[] ids, int n, int len, Tensor eot, Tensor padding, SplittableRandom random) {
        MlmMasking.Masked masked = MlmMasking.mask(ids, n, len, p.mlmProbability(), random);
        if (masked.chosen() == 0) return null;
        long[] positions = masked.positions(), targets = masked.targets();
        Tensor inputs = Tensors.fromLongs(masked.inputs(), n, len), rows = Tensors.fromLongs(positions, positions.length);
        Tensor scores = mlmScores(model, fusion, inputs, eot, padding, e.imageTokens(), rows);
        Tensor soft = null;
        if (m != null && alphaNow > 0) {
            soft = Grad.noGrad(() -> mlmScores(momentum.clip(), momentum.fusion(), inputs, eot, padding, m.imageTokens(), rows));
        }
        return MlmLoss.of(scores, Tensors.fromLongs(targets, targets.length), soft, alphaNow);
    }

    private static Tensor mlmScores(ClipModel clip, FusionModel f, Tensor inputs, Tensor eot, Tensor padding, Tensor imageTokens,
                                    Tensor rows) {
        TextTransformer t = clip.text();
        Tensor states = t.states(t.embed(inputs), eot);
        Tensor fused = f.encoder().forward(states, padding, imageTokens);
        Tensor hidden = fused.reshape(-1, fused.size(2)).index_select(0, rows);
        return f.mlmHead().forward(hidden, t.tokenEmbedding().weight());
    }

    @Override
    public void initializeFresh() {
        syncLogitScale();
    }

    @Override
    public void afterOptimizerStep() {
        ita.clampTemperature();
        syncLogitScale();
        if (momentum != null) momentum.update(model, fusion, p.momentum());
    }

    /** The model's logit_scale = ln(1/temp), capped at ln 100 as CLIP's. */
    private void syncLogitScale() {
        double scale = Math.min(Math.log(1 / Tensors.item(ita.temperature())), ClipModel.MAX_LOGIT_SCALE);
        Grad.noGrad(() -> Ops.fill_(model.logitScaleParameter(), scale));
    }

    @Override
    public Map<String, Double> metrics() {
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("temp", (double) Tensors.item(ita.temperature()));
        out.put("alpha", alphaNow);
        return out;
    }
}
