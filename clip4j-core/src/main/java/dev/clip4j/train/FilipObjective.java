package dev.clip4j.train;

import dev.clip4j.model.ClipModel;
import dev.clip4j.model.Scoring;
import dev.clip4j.model.TokenWiseSimilarity;
import dev.clip4j.torch.Autocast;
import org.bytedeco.pytorch.Tensor;

import java.util.Map;

/**
 * CLIP trained with FILIP's token-wise late interaction ({@link FilipLoss}) instead of pooled features: both towers'
 * token features, projected into the shared space, meet in {@link TokenWiseSimilarity}. The model is marked
 * {@link Scoring#TOKEN_WISE}, so its checkpoints make zero-shot and retrieval score the same way. Micro-batching stays
 * exact: gradient caching runs over the token features. The scores and the loss are computed in float32.
 */
public final class FilipObjective extends ContrastiveObjective {
    public FilipObjective(ClipModel model, TrainOptions options) {
        super(model, options);
        model.scoring(Scoring.TOKEN_WISE);
    }

    @Override
    public Map<String, Double> step(TrainBatch batch) {
        Tensor valid = TokenWiseSimilarity.textValid(batch.tokens());
        double loss = ContrastiveStep.run(model, batch.images(), batch.tokens(), options.microBatch(), options.bf16(),
                model::encodeImageTokens, model::encodeTextTokens,
                f -> Autocast.suspended(() -> FilipLoss.of(f.image(), f.text(), valid, f.logitScale())));
        return withSimclr(loss, batch);
    }
}
