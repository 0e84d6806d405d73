package dev.clip4j.pretrain;

import dev.clip4j.InputException;
import dev.clip4j.data.FrameFeatureDataset;
import dev.clip4j.model.ClipModel;
import dev.clip4j.model.TextTransformer;
import dev.clip4j.model.VisionTransformer;
import dev.clip4j.nn.Module;
import dev.clip4j.torch.Autocast;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.Tensors;
import dev.clip4j.train.Objective;
import dev.clip4j.train.TrainBatch;
import dev.clip4j.train.TrainOptions;
import org.bytedeco.pytorch.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The seed's pretraining of a single-stream model: MLM, MFM and ITM, any subset, weighted. Visual tokens are the
 * batch's frame features with their validity mask (frame-feature data), or the ViT's patch embeddings of its images.
 *
 * <p>The seed computes all three in one forward, shuffling the frames for ITM after masking; that misaligns the
 * MLM/MFM targets with the shuffled pairs, and its visual mask stays in the original order. Here MLM and MFM run on
 * the aligned batch (one forward, text and frames both corrupted, as the seed), and ITM runs a second forward on the
 * seed's shuffled pairs with each clip's mask moved with its features ({@link ItmNegatives.Pairs}), on uncorrupted
 * inputs. ITM's negatives are the seed's shuffle: there are no unimodal features to mine hard negatives from.
 */
public final class SingleStreamObjective implements Objective {
    private final ClipModel model;
    private final TrainOptions options;
    private final PretrainOptions p;
    private final SingleStreamModel stream;
    private final boolean frames;
    private final Map<String, Tensor> trainable = new LinkedHashMap<>();
    private long step;

    public SingleStreamObjective(ClipModel model, TrainOptions options) {
        this.model = model;
        this.options = options;
        this.p = options.pretrain();
        if (!model.text().bidirectional()) throw new IllegalStateException("a single-stream model's encoder must be bidirectional");
        if (!p.itmNegatives().equals(PretrainOptions.SHUFFLE)) {
            throw new InputException("the single-stream model has no unimodal features to draw hard ITM negatives from; "
                    + "use --itm-negatives shuffle (the seed's)");
        }
        if (p.queueSize() > 0 && p.has(PretrainOptions.ITA)) throw new InputException("the single-stream model has no ITA");
        if (options.evalData() != null && options.evalEvery() > 0) {
            throw new InputException("zero-shot evaluation during training needs unimodal encoders; the single-stream model has none");
        }
        frames = FrameFeatureDataset.isFrameData(options.data());
        if (!(model.visual() instanceof VisionTransformer vit)) throw new InputException("the single-stream model's image side must be a ViT");
        int visualDim, maxVisual;
        if (frames) {
            FrameFeatureDataset d = FrameFeatureDataset.open(options.data());
            visualDim = d.dim();
            maxVisual = d.frames();
        } else {
            if (p.has(PretrainOptions.MFM)) {
                throw new InputException("mfm predicts precomputed frame features: give frame-feature data (a .safetensors file), "
                        + "or drop mfm for images");
            }
            visualDim = vit.width();
            int grid = model.imageResolution() / model.config().visionPatchSize();
            maxVisual = grid * grid;
        }
        stream = new SingleStreamModel(model.config().transformerWidth(), visualDim, maxVisual, model.config().vocabSize());
        stream.train(true);
        // the text tower is the joint encoder; text_projection and logit_scale are not used, nor the ViT beyond its patches
        model.freeze();
        model.namedParameters().forEach((k, v) -> {
            boolean text = !k.startsWith("visual.") && !k.equals("text_projection") && !k.equals("logit_scale");
            boolean patches = !frames && (k.equals("visual.conv1.weight") || k.equals("visual.positional_embedding")
                    || k.startsWith("visual.ln_pre."));
            if ((text && !options.lockText()) || (patches && !options.lockImage())) {
                v.requires_grad_(true);
                trainable.put(k, v);
            }
        });
        stream.namedParameters().forEach((k, v) -> trainable.put("single_stream." + k, v));
    }

    @Override
    public ClipModel model() {
        return model;
    }

    public SingleStreamModel stream() {
        return stream;
    }

    @Override
    public Map<String, Module> extraModules() {
        return Map.of("single_stream", stream);
    }

    @Override
    public Map<String, Tensor> trainableParameters() {
        return trainable;
    }

    @Override
    public boolean decays(String name) {
        if (name.startsWith("single_stream.")) return stream.decays(name.substring("single_stream.".length()));
        return model.decays(name);
    }

    @Override
    public void beforeStep(long step, double epoch) {
        this.step = step;
    }

    @Override
    public Map<String, Double> step(TrainBatch batch) {
        PretrainSteps.Text text = PretrainSteps.text(batch, options.seed(), step);
        int n = text.rows(), len = text.length();
        Tensor tokens = text.tokens();
        TaskLosses losses = new TaskLosses(p);
        try (Autocast ac = options.bf16() ? Autocast.bf16() : null) {
            Tensor eot = TextTransformer.endOfText(tokens);
            Tensor visual, valid;
            if (frames) {
                if (batch.frames() == null) throw new IllegalStateException("frame-feature data gave a batch without frames");
                visual = batch.frames();
                valid = batch.frameMask();
            } else {
                visual = ((VisionTransformer) model.visual()).patchEmbeddings(batch.images());
                valid = Tensors.full(1, DType.BOOL, n, visual.size(1));
            }
            int t = (int) visual.size(1);
            if (p.has(PretrainOptions.MLM) || p.has(PretrainOptions.MFM)) {
                MlmMasking.Masked words = p.has(PretrainOptions.MLM) ? MlmMasking.mask(text.ids(), n, len, p.mlmProbability(), text.random()) : null;
                MfmMasking.Masked video = null;
                Tensor visualIn = visual, chosen = null;
                if (p.has(PretrainOptions.MFM)) {
                    video = MfmMasking.mask(Tensors.toBooleans(valid), n, t, p.mfmProbability(), text.random());
                    chosen = Tensors.fromBooleans(video.chosen(), n, t);
                    visualIn = Ops.maskedFill(visual, chosen.unsqueeze(-1), 0.0);
                }
                Tensor textIn = words == null ? tokens : Tensors.fromLongs(words.inputs(), n, len);
                Tensor fused = stream.forward(model, visualIn, valid, textIn, eot);
                if (words != null && words.chosen() > 0) losses.add(PretrainOptions.MLM, mlm(fused, words, len, t));
                if (video != null && video.count() > 0) {
                    losses.add(PretrainOptions.MFM, MfmLoss.of(stream.mfm(fused, t), visual, valid, chosen, false, 0.1));
                }
            }
            if (p.has(PretrainOptions.ITM)) {
                ItmNegatives.Pairs pairs = ItmNegatives.shufflePairs(n, text.sameCaption());
                Tensor fused = stream.forward(model, pairs.selectVisual(visual), pairs.selectVisual(valid), pairs.selectText(tokens),
                        pairs.selectText(eot));
                losses.add(PretrainOptions.ITM, NN.crossEntropy(Tensors.to(stream.itm(fused), DType.F32), pairs.labelTensor()));
            }
        }
        // nothing chosen to mask in this batch and no ITM: a step without a loss changes nothing
        if (losses.total() != null) losses.total().backward();
        return losses.report();
    }

    /** MLM at the chosen text positions of the joint sequence (text token j sits at 1 + T + j for j ≥ 1). */
    private Tensor mlm(Tensor fused, MlmMasking.Masked words, int len, int t) {
        long joint = fused.size(1);
        long[] rows = words.positions();
        for (int k = 0; k < rows.length; k++) {
            long b = rows[k] / len, j = rows[k] % len; // j ≥ 1: [CLS] (j = 0) is never chosen
            rows[k] = b * joint + SingleStreamModel.textPosition(t, (int) j);
        }
        Tensor hidden = fused.reshape(-1, fused.size(2)).index_select(0, Tensors.fromLongs(rows, rows.length));
        Tensor scores = stream.mlm(hidden, model.text().tokenEmbedding().weight());
        long[] targets = words.targets();
        return MlmLoss.of(scores, Tensors.fromLongs(targets, targets.length), null, 0);
    }
}
