package dev.clip4j.train;

import dev.clip4j.model.ClipModel;

/** The objective a run's options name ({@link TrainOptions#loss}): what {@link Trainer} builds by default. */
public final class Objectives {
    private Objectives() {}

    public static Objective create(ClipModel model, TrainOptions options) {
        if (options.pretrain() != null) return dev.clip4j.pretrain.PretrainModels.objective(model, options);
        return switch (options.loss()) {
            case TrainOptions.LOSS_SIGLIP -> new SigLipObjective(model, options);
            case TrainOptions.LOSS_FILIP -> new FilipObjective(model, options);
            default -> new ContrastiveObjective(model, options); // infonce, multi-positive
        };
    }
}
