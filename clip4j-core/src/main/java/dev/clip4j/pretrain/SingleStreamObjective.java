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
import java.util.SplittableRandom;

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
        int n = batch.size(), fullLength = (int) batch.tokens().size(1);
        long[] all = Tensors.toLongs(batch.tokens());
        int len = PretrainSteps.usedLength(all, n, fullLength);
        long[] ids = PretrainSteps.trim(all, n, fullLength, len);
        Tensor tokens = Tensors.fromLongs(ids, n, len);
        SplittableRandom random = PretrainSteps.random(options.seed(), step);
        boolean[][] same = ItmNegatives.sameCaption(ids, batch.labels(), n, len);
        Map<String, Double> out = new LinkedHashMap<>();
        Tensor total = null;
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
                MlmMasking.Masked text = p.has(PretrainOptions.MLM) ? MlmMasking.mask(ids, n, len, p.mlmProbability(), random) : null;
                MfmMasking.Masked video = null;
                Tensor visualIn = visual;
                if (p.has(PretrainOptions.MFM)) {
                    video = MfmMasking.mask(toBooleans(valid), n, t, p.mfmProbability(), random);
                    Tensor chosen = chosenTensor(video.chosen(), n, t);
                    visualIn = Ops.maskedFill(visual, chosen.unsqueeze(-1), 0.0);
                }
                Tensor textIn = text == null ? tokens : Tensors.fromLongs(text.inputs(), n, len);
                Tensor fused = stream.forward(model, visualIn, valid, textIn, eot);
                if (text != null && text.chosen() > 0) {
                    total = add(total, mlm(fused, text, n, len, t), PretrainOptions.MLM, out);
                }
                if (video != null && video.count() > 0) {
                    Tensor loss = MfmLoss.of(stream.mfm(fused, t), visual, valid, chosenTensor(video.chosen(), n, t), false, 0.1);
                    total = add(total, loss, PretrainOptions.MFM, out);
                }
            }
            if (p.has(PretrainOptions.ITM)) {
                ItmNegatives.Pairs pairs = ItmNegatives.shufflePairs(n, same);
                Tensor fused = stream.forward(model, pairs.selectVisual(visual), pairs.selectVisual(valid), pairs.selectText(tokens),
                        pairs.selectText(eot));
                Tensor loss = NN.crossEntropy(Tensors.to(stream.itm(fused), DType.F32), pairs.labelTensor());
                total = add(total, loss, PretrainOptions.ITM, out);
            }
        }
        if (total == null) {
            // nothing was chosen to mask in this batch and there is no ITM: a step without a loss changes nothing
            out.put("loss", 0.0);
            return out;
        }
        total.backward();
        Map<String, Double> ordered = new LinkedHashMap<>();
        ordered.put("loss", (double) Tensors.item(total));
        ordered.putAll(out);
        return ordered;
    }

    private Tensor add(Tensor total, Tensor loss, String task, Map<String, Double> out) {
        out.put(task, (double) Tensors.item(loss));
        Tensor weighted = Ops.mul(loss, p.weight(task));
        return total == null ? weighted : total.add(weighted);
    }

    /** MLM at the chosen text positions of the joint sequence (text token j sits at 1 + T + j for j ≥ 1). */
    private Tensor mlm(Tensor fused, MlmMasking.Masked text, int n, int len, int t) {
        long joint = fused.size(1);
        long[] rows = new long[text.chosen()], targets = new long[text.chosen()];
        for (int i = 0, k = 0; i < text.labels().length; i++) {
            if (text.labels()[i] == MlmMasking.IGNORE) continue;
            int b = i / len, j = i % len; // j ≥ 1: [CLS] (j = 0) is never chosen
            rows[k] = b * joint + SingleStreamModel.textPosition(t, j);
            targets[k++] = text.labels()[i];
        }
        Tensor hidden = fused.reshape(-1, fused.size(2)).index_select(0, Tensors.fromLongs(rows, rows.length));
        Tensor scores = stream.mlm(hidden, model.text().tokenEmbedding().weight());
        return MlmLoss.of(scores, Tensors.fromLongs(targets, targets.length), null, 0);
    }

    private static boolean[] toBooleans(Tensor mask) {
        long[] v = Tensors.toLongs(Tensors.to(mask, DType.I64).contiguous());
        boolean[] out = new boolean[v.length];
        for (int i = 0; i < v.length; i++) out[i] = v[i] != 0;
        return out;
    }

    private static Tensor chosenTensor(boolean[] chosen, int n, int t) {
        byte[] b = new byte[chosen.length];
        for (int i = 0; i < b.length; i++) b[i] = (byte) (chosen[i] ? 1 : 0);
        return Tensors.to(Tensors.fromBytes(java.nio.ByteBuffer.wrap(b), DType.U8, n, t), DType.BOOL);
    }
}
