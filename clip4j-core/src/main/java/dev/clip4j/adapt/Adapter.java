package dev.clip4j.adapt;

import dev.clip4j.Clip;
import dev.clip4j.InputException;
import dev.clip4j.Precision;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.checkpoint.ModelFingerprint;
import dev.clip4j.data.ImageTextDataset;
import dev.clip4j.eval.FeatureExtractor;
import dev.clip4j.eval.ZeroShot;
import dev.clip4j.eval.ZeroShotResult;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A trained adapter applied to its CLIP model: {@code Adapter.load(dir).classify(images)}, beside {@link Clip#classify}.
 * Loading checks that the CLIP model has the content hash the adapter was trained with (a clear error otherwise).
 * Methods whose state does not depend on the class list (CoOp's unified context) classify any class names
 * ({@link #classifierFor}); the others only their own.
 */
public final class Adapter {
    private final Path dir;
    private final AdapterFiles.Meta meta;
    private final ClipModel clip;
    private final Map<String, Tensor> tensors;
    private final Classifier own;

    /** Logits for normalised image features [N, embed_dim] → [N, classes]. */
    public interface Classifier {
        List<String> classNames();

        Tensor logits(Tensor imageFeatures);
    }

    private Adapter(Path dir, AdapterFiles.Meta meta, ClipModel clip, Map<String, Tensor> tensors) {
        this.dir = dir;
        this.meta = meta;
        this.clip = clip;
        this.tensors = tensors;
        this.own = classifierFor(meta.classes());
    }

    /** The adapter in {@code dir} on the CLIP model it records. */
    public static Adapter load(Path dir) {
        return load(dir, null);
    }

    /** The adapter on {@code model} (null: the recorded path); the model's content hash must match. */
    public static Adapter load(Path dir, Path model) {
        AdapterFiles.Meta meta = AdapterFiles.readMeta(dir);
        if (!AdapterMethods.KNOWN.contains(meta.method())) {
            throw new InputException(dir.resolve(AdapterFiles.JSON) + ": unknown method '" + meta.method() + "' (known: "
                    + String.join(", ", AdapterMethods.KNOWN) + ")");
        }
        Path modelPath = model != null ? model : Path.of(meta.modelPath());
        if (model == null && !Files.exists(modelPath)) {
            throw new InputException(dir + ": its CLIP model " + modelPath + " is not there any more; pass it with --model");
        }
        ClipModel clip = ClipCheckpoint.loadModel(modelPath).train(false);
        String sha = ModelFingerprint.of(clip);
        if (!sha.equals(meta.modelSha256())) {
            throw new InputException(dir + " adapts the CLIP model with weights sha256 " + meta.modelSha256().substring(0, 12)
                    + "… (" + meta.modelPath() + "), but " + modelPath + " has " + sha.substring(0, 12) + "…; use the model it was trained on");
        }
        Map<String, Tensor> tensors = AdapterFiles.readTensors(dir);
        tensors.replaceAll((k, v) -> dev.clip4j.torch.Scope.escape(v));
        return new Adapter(dir, meta, clip, tensors);
    }

    public String method() {
        return meta.method();
    }

    public AdapterFiles.Meta meta() {
        return meta;
    }

    public ClipModel model() {
        return clip;
    }

    public List<String> classNames() {
        return meta.classes();
    }

    /** A classifier over {@code classNames}: any names for CoOp's unified context, else exactly the adapter's. */
    public Classifier classifierFor(List<String> classNames) {
        if (!AdapterMethods.classAgnostic(meta) && !classNames.equals(meta.classes())) {
            List<String> unknown = classNames.stream().filter(c -> !meta.classes().contains(c)).toList();
            throw new InputException(dir + " (" + meta.method() + (meta.settings().get("csc") == Boolean.TRUE ? ", class-specific" : "")
                    + ") knows only its own " + meta.classes().size() + " classes"
                    + (unknown.isEmpty() ? " in their order" : "; unknown class '" + unknown.get(0) + "'"));
        }
        return AdapterMethods.classifier(meta, tensors, clip, classNames, dir);
    }

    /** Class probabilities (softmax of the adapter's logits) for each image file, over the adapter's classes. */
    public float[][] classify(List<Path> images) {
        float[][] f = new Clip(clip, Precision.FP32).encodeImages(images, true);
        if (f.length == 0) return f;
        try (Scope s = Scope.open()) {
            Tensor x = Tensors.fromRows(f);
            return Tensors.toMatrix(Grad.noGrad(() -> NN.softmax(own.logits(x), -1)));
        }
    }

    /** Top-1/top-5/per-class over a class-labelled dataset, whose class names the classifier is built for. */
    public ZeroShotResult evaluate(ImageTextDataset data, int batchSize) {
        int[] labels = new int[data.size()];
        float[][] f = FeatureExtractor.images(clip, data, batchSize, labels);
        return ZeroShot.summarize(data.name(), scores(f, data.classNames()), labels, data.classNames());
    }

    /** The adapter's logits [N][classes] for normalised image features (e.g. computed once for many adapters). */
    public float[][] scores(float[][] features, List<String> classNames) {
        Classifier c = classifierFor(classNames);
        float[][] scores = new float[features.length][];
        for (int start = 0; start < features.length; start += 1024) {
            int end = Math.min(features.length, start + 1024);
            try (Scope s = Scope.open()) {
                Tensor x = Tensors.fromRows(java.util.Arrays.copyOfRange(features, start, end));
                float[][] rows = Tensors.toMatrix(Grad.noGrad(() -> c.logits(x)));
                System.arraycopy(rows, 0, scores, start, rows.length);
            }
        }
        return scores;
    }
}
