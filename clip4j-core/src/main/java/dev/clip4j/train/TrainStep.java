package dev.clip4j.train;

import dev.clip4j.torch.Autograd;
import dev.clip4j.torch.Scope;
import org.bytedeco.pytorch.Tensor;

import java.util.Map;

/**
 * One optimisation step, exactly as {@link Trainer} runs it (and {@code bench/TrainStepBench.java} times it): zero
 * the gradients, set the learning rate, the objective's forward and backward, global-norm clipping, the AdamW step,
 * then the objective's post-step hook (the {@code logit_scale} clamp). Its intermediates live in one memory scope.
 */
public final class TrainStep {
    private TrainStep() {}

    /** The named losses and the gradient norm before clipping (NaN when {@code clipNorm} is 0). */
    public record Outcome(Map<String, Double> losses, double gradNorm) {}

    public static Outcome run(Objective objective, AdamW optimizer, Map<String, Tensor> trainable, TrainBatch batch,
                              double lr, double clipNorm) {
        return run(objective, optimizer, trainable, batch, lr, clipNorm, null);
    }

    /** The same on one rank of a data-parallel run: the gradients are summed over the ranks before clipping. */
    public static Outcome run(Objective objective, AdamW optimizer, Map<String, Tensor> trainable, TrainBatch batch,
                              double lr, double clipNorm, dev.clip4j.dist.DataParallel dp) {
        try (Scope scope = Scope.open()) {
            optimizer.zeroGrad();
            optimizer.setLearningRate(lr);
            Map<String, Double> losses = objective.step(batch);
            if (dp != null) dp.sumGradients(trainable.values());
            double gradNorm = clipNorm > 0 ? Autograd.clipGradNorm(trainable.values(), clipNorm) : Double.NaN;
            optimizer.step();
            objective.afterOptimizerStep();
            return new Outcome(losses, gradNorm);
        }
    }
}
