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

    public ContrastiveObjective(ClipModel model, TrainOptions options) {
        this.model = model;
        this.options = options;
        Map<String, Tensor> params = new LinkedHashMap<>(ParameterGroups.trainable(model, options.lockImage(), options.lockText()));
        if (fixedTemperature()) {
            // a fixed temperature (self-supervised work's 0.05, say) is not trained: frozen, out of the optimizer
            model.logitScaleParameter().requires_grad_(false);
            params.remove("logit_scale");
        }
        this.trainable = params;
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
        return model.decays(name);
    }

    @Override
    public Map<String, Double> step(TrainBatch batch) {
        if (options.loss().equals(TrainOptions.LOSS_MULTI_POSITIVE)) {
            int n = batch.size(), len = (int) batch.tokens().size(1);
            MultiPositiveLoss.Mask mask = MultiPositiveLoss.mask(batch.labels(), Tensors.toLongs(batch.tokens()), n, len);
            Tensor positives = mask.tensor();
            return Map.of("loss", ContrastiveStep.run(model, batch.images(), batch.tokens(), options.microBatch(), options.bf16(),
                    f -> MultiPositiveLoss.of(f.logits(), positives, mask.diagonalOnly())));
        }
        return Map.of("loss", ContrastiveStep.run(model, batch.images(), batch.tokens(), options.microBatch(), options.bf16()));
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
