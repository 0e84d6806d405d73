package dev.clip4j.pretrain;

import dev.clip4j.InputException;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.model.ClipConfig;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Tensors;
import dev.clip4j.train.Objective;
import dev.clip4j.train.TrainOptions;
import org.bytedeco.pytorch.Tensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The model and objective of a pretraining run. The unimodal encoders are a {@link ClipModel} of the run's
 * architecture ({@link PretrainArchitectures}); {@code --init} with a CLIP checkpoint copies every tensor whose shape
 * matches, and the token embedding's 49,408 rows into the first rows of the larger table (the [MASK] row keeps its
 * random initialisation). A CLIP text tower was trained causal; here it attends both ways, and fine-tunes from there.
 */
public final class PretrainModels {
    private PretrainModels() {}

    public static ClipModel create(TrainOptions o) {
        ClipConfig c = PretrainArchitectures.resolve(o.arch()).clip();
        if (o.pretrain().modelType().equals(PretrainOptions.SINGLE_STREAM)) {
            // the single-stream model uses the image tower's patch embedding only: a ViT of zero blocks, which also
            // marks the saved model as one that cannot embed on its own (ClipModel.isSingleStream)
            if (!c.isVit()) throw new InputException(o.arch() + ": the single-stream model takes ViT patch embeddings; give a ViT arch");
            c = new ClipConfig(c.name(), c.embedDim(), c.imageResolution(), new int[] {0}, c.visionWidth(), c.visionPatchSize(),
                    c.visionHeads(), c.contextLength(), c.vocabSize(), c.transformerWidth(), c.transformerHeads(),
                    c.transformerLayers(), c.textAttention());
        }
        ClipModel model = ClipModel.create(c);
        if (o.init() != null) initialiseFrom(model, ClipCheckpoint.loadModel(Path.of(o.init())), o.init());
        return model;
    }

    /** Copies what fits from {@code clip} into {@code model}; returns the names left at their initialisation. */
    public static List<String> initialiseFrom(ClipModel model, ClipModel clip, String origin) {
        Map<String, Tensor> theirs = clip.stateDict();
        List<String> kept = new ArrayList<>();
        int[] copied = {0};
        Grad.noGrad(() -> model.stateDict().forEach((k, mine) -> {
            Tensor src = theirs.get(k);
            if (src == null) {
                kept.add(k);
                return;
            }
            long[] a = Tensors.shape(mine), b = Tensors.shape(src);
            if (Arrays.equals(a, b)) {
                mine.copy_(src);
                copied[0]++;
            } else if (k.equals("token_embedding.weight") && a.length == 2 && a[1] == b[1] && b[0] < a[0]) {
                mine.narrow(0, 0, b[0]).copy_(src);
                copied[0]++;
            } else {
                kept.add(k);
            }
        }));
        if (copied[0] == 0) throw new InputException(origin + ": no tensor of this checkpoint fits the pretraining architecture");
        return kept;
    }

    public static Objective objective(ClipModel model, TrainOptions o) {
        return switch (o.pretrain().modelType()) {
            case PretrainOptions.FUSION -> new FusionObjective(model, o);
            case PretrainOptions.SINGLE_STREAM -> new SingleStreamObjective(model, o);
            default -> throw new InputException("unknown model type " + o.pretrain().modelType());
        };
    }
}
