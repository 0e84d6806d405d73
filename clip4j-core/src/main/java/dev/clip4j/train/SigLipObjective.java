package dev.clip4j.train;

import dev.clip4j.model.ClipModel;
import dev.clip4j.nn.Init;
import dev.clip4j.nn.Module;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CLIP trained with {@link SigLipLoss}: the model's {@code logit_scale} starts at ln 10 (a fresh run) and is clamped as
 * CLIP's; the learnable {@code logit_bias} (init −10) lives in the objective's {@code siglip} module, so checkpoints
 * save it and resume restores it. Micro-batching stays exact (the bias is a parameter of the feature loss).
 */
public final class SigLipObjective extends ContrastiveObjective {
    /** The bias as a module: {@code siglip.logit_bias} in checkpoints and in the optimizer. */
    static final class Bias extends Module {
        Bias() {
            parameter("logit_bias", Init.isSkipping() ? Tensors.scalar(0) : Tensors.scalar(SigLipLoss.INIT_LOGIT_BIAS));
        }

        Tensor value() {
            return p("logit_bias");
        }

        @Override
        protected Module blank() {
            return new Bias();
        }
    }

    private final Bias bias = new Bias();

    public SigLipObjective(ClipModel model, TrainOptions options) {
        super(model, options);
    }

    /** SigLIP's scale starts at 10 unless the temperature is fixed. */
    @Override
    public void initializeFresh() {
        if (fixedTemperature()) super.initializeFresh();
        else Grad.noGrad(() -> Ops.fill_(model.logitScaleParameter(), SigLipLoss.INIT_LOGIT_SCALE));
    }

    public Tensor logitBias() {
        return bias.value();
    }

    @Override
    public Map<String, Module> extraModules() {
        Map<String, Module> all = new LinkedHashMap<>(super.extraModules());
        all.put("siglip", bias);
        return all;
    }

    @Override
    public Map<String, Tensor> trainableParameters() {
        Map<String, Tensor> all = new LinkedHashMap<>(super.trainableParameters());
        all.put("siglip.logit_bias", bias.value());
        return all;
    }

    @Override
    public boolean decays(String name) {
        return !name.equals("siglip.logit_bias") && super.decays(name);
    }

    @Override
    public Map<String, Double> step(TrainBatch batch) {
        Tensor b = bias.value();
        return withSimclr(ContrastiveStep.run(model, batch.images(), batch.tokens(), options.microBatch(), options.bf16(),
                f -> SigLipLoss.of(f, b)), batch);
    }

    @Override
    public Map<String, Double> metrics() {
        Map<String, Double> m = new LinkedHashMap<>(super.metrics());
        m.put("logit_bias", (double) Tensors.item(bias.value()));
        return m;
    }
}
