package dev.clip4j.train;

import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CLIP's objective: symmetric InfoNCE over the batch, with the exact micro-batch gradient cache of
 * {@link ContrastiveStep}; {@code logit_scale} clamped to [0, ln 100] after each optimizer step; locked towers frozen.
 */
public class ContrastiveObjective implements Objective {
    protected final ClipModel model;
    protected final TrainOptions options;
    private final Map<String, Tensor> trainable;
    /** SimCLR's head when the run adds its image-pair loss ({@code simclrWeight > 0}), else null. */
    private final SimClrHead simclr;
    /** The group of a distributed run (the loss is then over the global batch), else null. */
    private dev.clip4j.dist.DataParallel dp;

    public ContrastiveObjective(ClipModel model, TrainOptions options) {
        this.model = model;
        this.options = options;
        Map<String, Tensor> params = new LinkedHashMap<>(ParameterGroups.trainable(model, options.lockImage(), options.lockText()));
        if (fixedTemperature()) {
            // a fixed temperature (self-supervised work's 0.05, say) is not trained: frozen, out of the optimizer
            model.logitScaleParameter().requires_grad_(false);
            params.remove("logit_scale");
        }
        if (options.simclrWeight() > 0) {
            int width = model.visual() instanceof dev.clip4j.model.VisionTransformer vit ? vit.width() : model.config().embedDim();
            simclr = new SimClrHead(width, options.simclrHidden());
            simclr.train(true);
            simclr.namedParameters().forEach((k, v) -> params.put("simclr." + k, v));
        } else {
            simclr = null;
        }
        this.trainable = params;
    }

    @Override
    public Map<String, dev.clip4j.nn.Module> extraModules() {
        return simclr == null ? Map.of() : Map.of("simclr", simclr);
    }

    /** SimCLR's NT-Xent over two views of the batch's images through the head, weighted; backward included. */
    protected double simclrTerm(TrainBatch batch) {
        if (batch.secondView() == null) throw new IllegalStateException("SimCLR needs the batch's second view");
        try (dev.clip4j.torch.Autocast ac = options.bf16() ? dev.clip4j.torch.Autocast.bf16() : null) {
            Tensor z1 = simclr.forward(model.visual().encodePooled(batch.images()));
            Tensor z2 = simclr.forward(model.visual().encodePooled(batch.secondView()));
            Tensor loss = NtXentLoss.of(z1, z2, NtXentLoss.TEMPERATURE);
            Ops.mul(loss, options.simclrWeight()).backward();
            return Tensors.item(loss);
        }
    }

    /** The image-text losses plus, with SimCLR, its term: {@code loss} is the weighted total. */
    protected Map<String, Double> withSimclr(double imageText, TrainBatch batch) {
        if (simclr == null) return Map.of("loss", imageText);
        double ssl = simclrTerm(batch);
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("loss", imageText + options.simclrWeight() * ssl);
        out.put("image_text", imageText);
        out.put("simclr", ssl);
        return out;
    }

    protected final boolean fixedTemperature() {
        return !Double.isNaN(options.fixedTemperature());
    }

    /** A fixed temperature T sets {@code logit_scale} to ln(1/T) at the start of a new run. */
    @Override
    public void initializeFresh() {
        if (fixedTemperature()) {
            Grad.noGrad(() -> Ops.fill_(model.logitScaleParameter(), Math.log(1 / options.fixedTemperature())));
        }
    }

    @Override
    public ClipModel model() {
        return model;
    }

    @Override
    public Map<String, Tensor> trainableParameters() {
        return trainable;
    }

    @Override
    public boolean decays(String name) {
        if (name.startsWith("simclr.")) return simclr.decays(name.substring("simclr.".length()));
        return model.decays(name);
    }

    /** CLIP's InfoNCE over the global batch; the other losses and SimCLR's pairs still train on one process. */
    @Override
    public void distribute(dev.clip4j.dist.DataParallel group) {
        if (!options.loss().equals(TrainOptions.LOSS_INFONCE)) {
            throw new dev.clip4j.InputException("--loss " + options.loss() + " trains on one process only; distributed training "
                    + "computes CLIP's InfoNCE (--loss infonce) over the global batch");
        }
        if (simclr != null) throw new dev.clip4j.InputException("--simclr-weight trains on one process only (its pairs are not gathered across ranks)");
        this.dp = group;
    }

    @Override
    public Map<String, Double> step(TrainBatch batch) {
        if (dp != null) {
            return Map.of("loss", dev.clip4j.dist.GlobalContrastiveStep.run(dp, model, batch.images(), batch.tokens(),
                    options.microBatch(), options.bf16(), model::encodeImage, model::encodeText));
        }
        if (options.loss().equals(TrainOptions.LOSS_MULTI_POSITIVE)) {
            int n = batch.size(), len = (int) batch.tokens().size(1);
            MultiPositiveLoss.Mask mask = MultiPositiveLoss.mask(batch.labels(), Tensors.toLongs(batch.tokens()), n, len);
            Tensor positives = mask.tensor();
            return withSimclr(ContrastiveStep.run(model, batch.images(), batch.tokens(), options.microBatch(), options.bf16(),
                    f -> MultiPositiveLoss.of(f.logits(), positives, mask.diagonalOnly())), batch);
        }
        return withSimclr(ContrastiveStep.run(model, batch.images(), batch.tokens(), options.microBatch(), options.bf16()), batch);
    }

    @Override
    public void afterOptimizerStep() {
        if (!fixedTemperature()) clampLogitScale(model);
    }

    @Override
    public Map<String, Double> metrics() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("logit_scale", Math.exp(Tensors.item(model.logitScaleParameter())));
        return m;
    }

    /** {@code logit_scale.clamp_(0, ln 100)}, as CLIP training does after each step. */
    public static void clampLogitScale(ClipModel model) {
        Tensor s = model.logitScaleParameter();
        Grad.noGrad(() -> Ops.clamp_(s, 0.0, ClipModel.MAX_LOGIT_SCALE));
    }
}
