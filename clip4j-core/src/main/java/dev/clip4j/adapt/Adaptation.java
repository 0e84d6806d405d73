package dev.clip4j.adapt;

import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.checkpoint.ModelFingerprint;
import dev.clip4j.data.Datasets;
import dev.clip4j.data.ImageTextDataset;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One few-shot adaptation from start to adapter directory, as {@code ./clip4j adapt} runs it: load the CLIP model
 * (and hash its weights), open the data, sample K shots per class of the chosen split, run the method, check CLIP's
 * weights are unchanged, write the adapter. Each method returns the summary the CLI prints.
 */
public final class Adaptation {
    static final String CACHED = "cached: CLIP's preprocessing, no augmentation";

    private final Path modelPath, out;
    private final ClipModel clip;
    private final String sha;
    private final ImageTextDataset data;
    private final ClassSplit split;
    private final int shots;
    private final long seed;
    private final ClassSubset sample;

    private Adaptation(Path modelPath, String data, int shots, ClassSplit split, long seed, Path out) {
        if (java.nio.file.Files.exists(out)) {
            throw new dev.clip4j.InputException(out + " already exists; adapters are never overwritten (choose another --out)");
        }
        this.modelPath = modelPath;
        this.out = out;
        this.clip = ClipCheckpoint.loadModel(modelPath).train(false);
        this.sha = ModelFingerprint.of(clip);
        this.data = Datasets.open(data);
        this.split = split;
        this.shots = shots;
        this.seed = seed;
        this.sample = FewShot.sample(this.data, split.classes(this.data.classNames().size()), shots, seed);
    }

    /** One method run on a prepared adaptation (the CLI's subcommands, tests). */
    @FunctionalInterface
    public interface Runner {
        Map<String, Object> run(Adaptation a) throws IOException;
    }

    /** Loads the model and samples the shots (before any training, so bad input fails fast). */
    public static Adaptation prepare(Path model, String data, int shots, ClassSplit split, long seed, Path out) {
        return new Adaptation(model, data, shots, split, seed, out);
    }

    public ClassSubset shots() {
        return sample;
    }

    public String datasetName() {
        return data.name();
    }

    public Map<String, Object> coop(CoOp.Settings s, PrintStream log) throws IOException {
        CoOp.Result r = CoOp.train(clip, sample, s, log);
        Map<String, Object> settings = s.toMap();
        settings.put("n_ctx", r.learner().contextCount());
        return save(AdapterMethods.COOP, settings, fit(r.finalLoss(), r.trainAccuracy()), r.seconds(), s.imageFeatures(), Map.of("ctx", r.learner().ctx()));
    }

    public Map<String, Object> cocoop(CoCoOp.Settings s, PrintStream log) throws IOException {
        CoCoOp.Result r = CoCoOp.train(clip, sample, s, log);
        Map<String, Object> settings = s.toMap();
        settings.put("n_ctx", r.learner().contextCount());
        return save(AdapterMethods.COCOOP, settings, fit(r.finalLoss(), r.trainAccuracy()), r.seconds(), s.schedule().imageFeatures(), r.learner().stateDict());
    }

    public Map<String, Object> tipAdapter(TipAdapter.Settings s, PrintStream log) throws IOException {
        TipAdapter.Result r = TipAdapter.build(clip, sample, shots, s, log);
        Map<String, Object> settings = s.toMap();
        settings.put("alpha", r.alpha());
        settings.put("beta", r.beta());
        settings.put("logit_scale", r.scale());
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("keys", Tensors.fromRows(r.keys()));
        tensors.put("values", Tensors.fromRows(r.values()));
        tensors.put("clip_weights", Tensors.fromRows(r.clipWeights()));
        return save(s.finetune() ? AdapterMethods.TIP_F : AdapterMethods.TIP, settings, tuned(r.tuning(), r.validationTop1()), r.seconds(),
                "cache keys: the mean of " + s.views() + " augmented views (random resized crop 0.5-1, flip)", tensors);
    }

    public Map<String, Object> linearProbe(PrintStream log) throws IOException {
        FewShotLinearProbe.Result r = FewShotLinearProbe.train(clip, sample, shots, log);
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("l2", r.l2());
        settings.put("epochs", FewShotLinearProbe.EPOCHS);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("weight", Tensors.fromRows(r.fit().weight()));
        tensors.put("bias", Tensors.fromFloats(r.fit().bias(), r.fit().bias().length));
        return save(AdapterMethods.PROBE, settings, tuned(r.tuning(), r.validationTop1()), r.seconds(), CACHED, tensors);
    }

    private static Map<String, Object> fit(double loss, double accuracy) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("final_loss", loss);
        m.put("train_accuracy", accuracy);
        return m;
    }

    private static Map<String, Object> tuned(String tuning, double validationTop1) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tuning", tuning);
        if (!Double.isNaN(validationTop1)) m.put("validation_top1", validationTop1);
        return m;
    }

    private Map<String, Object> save(String method, Map<String, Object> settings, Map<String, Object> result, double seconds,
                                     String features, Map<String, Tensor> tensors) throws IOException {
        if (!ModelFingerprint.of(clip).equals(sha)) throw new IllegalStateException("CLIP's weights changed during adaptation");
        Map<String, Object> training = new LinkedHashMap<>();
        training.put("dataset", data.name());
        training.put("classes", split.id());
        training.put("shots", shots);
        training.put("seed", seed);
        training.put("examples", sample.size());
        training.put("image_features", features);
        training.putAll(result);
        training.put("seconds", seconds);
        AdapterFiles.save(out, new AdapterFiles.Meta(method, sample.classNames(), modelPath.toAbsolutePath().toString(), sha,
                settings, training), tensors);
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("adapter", out.toString());
        summary.put("method", method);
        summary.putAll(training);
        return summary;
    }
}
