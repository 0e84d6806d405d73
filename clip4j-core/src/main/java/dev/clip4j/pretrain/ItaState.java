package dev.clip4j.pretrain;

import dev.clip4j.nn.Module;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * ITA's own state: ALBEF's learnable temperature {@code temp} (init 0.07, clamped to [0.001, 0.5] after each step)
 * and, with a queue size above 0, the {@link FeatureQueue}.
 */
public final class ItaState extends Module {
    private final int dim, queueSize;
    private final FeatureQueue queue;

    public ItaState(int dim, int queueSize) {
        this.dim = dim;
        this.queueSize = queueSize;
        parameter("temp", Tensors.scalar(PretrainOptions.TEMPERATURE_INIT));
        queue = queueSize > 0 ? child("queue", new FeatureQueue(dim, queueSize)) : null;
    }

    public Tensor temperature() {
        return p("temp");
    }

    /** The queue, or null when ITA runs in-batch only. */
    public FeatureQueue queue() {
        return queue;
    }

    public void clampTemperature() {
        Grad.noGrad(() -> Ops.clamp_(p("temp"), PretrainOptions.TEMPERATURE_MIN, PretrainOptions.TEMPERATURE_MAX));
    }

    @Override
    protected boolean decays(String name, Tensor parameter) {
        return false;
    }

    @Override
    protected Module blank() {
        return new ItaState(dim, queueSize);
    }
}
