package dev.clip4j.pretrain;

import dev.clip4j.model.ClipModel;
import dev.clip4j.nn.Module;

/**
 * The momentum copies a fusion run keeps (ALBEF's {@code *_m} modules): the unimodal encoders with their projections
 * ({@code clip}) and the fusion encoder with its MLM head ({@code fusion}, for MLM distillation). Frozen; moved by
 * {@link Momentum#update} after each optimizer step; checkpointed with the run.
 */
public final class MomentumModels extends Module {
    private final ClipModel clip;
    private final FusionModel fusion;

    public MomentumModels(ClipModel clip, FusionModel fusion) {
        this.clip = child("clip", Momentum.twin(clip));
        this.fusion = child("fusion", Momentum.twin(fusion));
    }

    public ClipModel clip() {
        return clip;
    }

    public FusionModel fusion() {
        return fusion;
    }

    public void update(ClipModel onlineClip, FusionModel onlineFusion, double m) {
        Momentum.update(onlineClip, clip, m);
        Momentum.update(onlineFusion, fusion, m);
    }

    @Override
    protected Module blank() {
        return new MomentumModels(clip, fusion);
    }
}
