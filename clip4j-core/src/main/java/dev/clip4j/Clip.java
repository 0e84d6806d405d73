package dev.clip4j;

import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.image.ClipPreprocessor;
import dev.clip4j.image.ImageInput;
import dev.clip4j.io.InputLimits;
import dev.clip4j.io.StopSignal;
import dev.clip4j.model.ClipModel;
import dev.clip4j.model.Towers;
import dev.clip4j.onnx.OnnxClip;
import dev.clip4j.onnx.OnnxThreads;
import dev.clip4j.tokenizer.ClipTokenizer;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The high-level API, shaped like OpenAI's {@code clip} package: load a checkpoint with its preprocessing and
 * tokenizer, encode images and texts, compare them. Results are plain Java arrays; every call frees its native
 * memory before returning.
 *
 * <pre>{@code
 * Clip clip = Clip.load(Path.of("ViT-B-32.pt"), Precision.FP32);
 * float[][] probs = clip.classify(List.of(Path.of("cat.png")), List.of("a diagram", "a dog", "a cat"));
 * }</pre>
 */
public final class Clip implements AutoCloseable {
    private static final int IMAGES_PER_BATCH = 32;
    private final ClipModel model;
    private final ClipPreprocessor preprocess;
    private final Precision precision;
    /** The towers on ONNX Runtime ({@link Backend#ONNX}), or null on libtorch. */
    private final OnnxClip onnx;

    /**
     * Wraps {@code model} for inference on libtorch; the given model is never changed (bf16 and int8 work on a copy),
     * and later changes to it (training) are seen.
     */
    public Clip(ClipModel model, Precision precision) {
        this(model, precision, false, Backend.TORCH, OnnxThreads.SPIN);
    }

    /**
     * {@code owned}: nobody else holds {@code model}, so bf16 and int8 may convert it in place (no float copy stays alive);
     * {@code backend} as {@link Backend#resolve} decides.
     */
    private Clip(ClipModel model, Precision precision, boolean owned, Backend backend, OnnxThreads threads) {
        if (model.isInt8() && precision != Precision.INT8) throw new IllegalArgumentException("the model is int8; use Precision.INT8");
        this.model = switch (precision) {
            case BF16 -> (owned ? model : model.<ClipModel>copy()).toBf16().train(false);
            case INT8 -> model.isInt8() ? model : (owned ? model : model.<ClipModel>copy()).toInt8();
            case FP32 -> model.isTraining() ? model.<ClipModel>copy().train(false) : model;
        };
        this.preprocess = new ClipPreprocessor(model.imageResolution());
        this.precision = precision;
        this.onnx = backend.resolve(this.model, precision) != Backend.ONNX ? null
                : owned ? OnnxClip.handOver(this.model, threads) : OnnxClip.of(this.model);
    }

    /**
     * Wraps a model that the caller hands over and no longer uses: bf16 and int8 then convert it in place, so no float copy
     * stays alive beside the converted one (the caller's reference sees it). On the onnx backend each tower goes to ONNX
     * Runtime on its first use and the model's libtorch copy of it is freed ({@link OnnxClip#handOver}): the model
     * ({@link #model}) then refuses that tower's work.
     */
    public static Clip handOver(ClipModel model, Precision precision) {
        return handOver(model, precision, Backend.current());
    }

    /** As {@link #handOver(ClipModel, Precision)}, on the given backend. */
    public static Clip handOver(ClipModel model, Precision precision, Backend backend) {
        return handOver(model, precision, backend, OnnxThreads.SPIN);
    }

    /**
     * As {@link #handOver(ClipModel, Precision, Backend)}; on ONNX Runtime the sessions use the cores as {@code threads}
     * says: {@link OnnxThreads#SLICES} for throughput on batches (a photo folder's pipeline), {@link OnnxThreads#SLEEP}
     * for a service under many concurrent queries, the default {@link OnnxThreads#SPIN} for one input at a time.
     */
    public static Clip handOver(ClipModel model, Precision precision, Backend backend, OnnxThreads threads) {
        return new Clip(model, precision, true, backend, threads);
    }

    /** Loads any supported checkpoint (OpenAI .pt, torch.save .pt/.bin, safetensors, Hugging Face or clip4j directory). */
    public static Clip load(Path checkpoint, Precision precision) {
        return load(checkpoint, precision, Backend.current());
    }

    /**
     * As {@link #load(Path, Precision)}, on the given backend ({@link Backend}). int8 is quantized layer by layer as
     * the checkpoint is read ({@link ClipCheckpoint#loadForInference}), so the float model is never whole in memory.
     */
    public static Clip load(Path checkpoint, Precision precision, Backend backend) {
        return load(checkpoint, precision, backend, OnnxThreads.SPIN);
    }

    /**
     * As {@link #load(Path, Precision, Backend)}, ONNX Runtime's sessions using the cores as {@code threads} says
     * ({@link OnnxThreads#SLICES} for many inputs in batches).
     */
    public static Clip load(Path checkpoint, Precision precision, Backend backend, OnnxThreads threads) {
        return load(checkpoint, precision, backend, threads, Towers.BOTH);
    }

    /** The checkpoint's {@code towers} (the others never read), owned by the new instance (int8 quantized as it loads). */
    private static Clip load(Path checkpoint, Precision precision, Backend backend, OnnxThreads threads, Towers towers) {
        return new Clip(ClipCheckpoint.loadForInference(checkpoint, precision == Precision.INT8, false, towers).model(), precision, true,
                backend, threads);
    }

    /**
     * As {@link #load(Path, Precision)} for work that encodes images only: the text tower is never read
     * ({@link ClipModel#dropTextTower}), and {@link #encodeTexts}, {@link #classify} and {@link #similarity} refuse.
     */
    public static Clip loadForImages(Path checkpoint, Precision precision) {
        return loadForImages(checkpoint, precision, OnnxThreads.SPIN);
    }

    /** As {@link #loadForImages(Path, Precision)}, ONNX Runtime's sessions using the cores as {@code threads} says. */
    public static Clip loadForImages(Path checkpoint, Precision precision, OnnxThreads threads) {
        return load(checkpoint, precision, Backend.current(), threads, Towers.IMAGE);
    }

    /**
     * As {@link #load(Path, Precision)} for work that encodes texts only: the image tower is never read
     * ({@link ClipModel#dropImageTower}), and {@link #encodeImages}, {@link #classify} and {@link #similarity} refuse.
     */
    public static Clip loadForTexts(Path checkpoint, Precision precision) {
        return loadForTexts(checkpoint, precision, OnnxThreads.SPIN);
    }

    /** As {@link #loadForTexts(Path, Precision)}, ONNX Runtime's sessions using the cores as {@code threads} says. */
    public static Clip loadForTexts(Path checkpoint, Precision precision, OnnxThreads threads) {
        return load(checkpoint, precision, Backend.current(), threads, Towers.TEXT);
    }

    /** TORCH or ONNX: what runs this instance's towers. */
    public Backend backend() {
        return onnx != null ? Backend.ONNX : Backend.TORCH;
    }

    /** On ONNX Runtime, how its sessions use the cores ({@link #handOver(ClipModel, Precision, Backend, OnnxThreads)}); empty on libtorch. */
    public java.util.Optional<OnnxThreads> onnxThreads() {
        return onnx == null ? java.util.Optional.empty() : java.util.Optional.of(onnx.onnxThreads());
    }

    /** The model; on the onnx backend, a handed-over model's towers already in use there are freed ({@link #handOver}). */
    public ClipModel model() {
        return model;
    }

    public ClipPreprocessor preprocessor() {
        return preprocess;
    }

    /** OpenAI's tokenizer, loaded on first use (its vocabulary is ~45 MB of heap that image-only work never needs). */
    public ClipTokenizer tokenizer() {
        return ClipTokenizer.getDefault();
    }

    public Precision precision() {
        return precision;
    }

    /** {@code model.encode_image(preprocess(image))} for each file, as float32 rows (batched internally). */
    public float[][] encodeImages(List<Path> images, boolean normalize) {
        return encode(images.stream().map(ImageInput::of).toList(), normalize);
    }

    /**
     * {@code model.encode_image(preprocess(image))} for images from files, bytes or memory ({@link ImageInput}), in
     * batches of 32 (memory stays bounded however many are given); rows in input order.
     */
    public float[][] encode(List<ImageInput> images, boolean normalize) {
        float[][] out = new float[images.size()][];
        for (int i = 0; i < images.size(); i += IMAGES_PER_BATCH) {
            StopSignal.check();
            List<ImageInput> batch = images.subList(i, Math.min(images.size(), i + IMAGES_PER_BATCH));
            try (Scope s = Scope.open()) {
                float[][] rows = Grad.noGrad(() -> features(encodeImage(preprocess.batchInputs(batch)), normalize));
                System.arraycopy(rows, 0, out, i, rows.length);
            }
        }
        return out;
    }

    /** {@code model.encode_text(clip.tokenize(texts))}, texts truncated to the context length. */
    public float[][] encodeTexts(List<String> texts, boolean normalize) {
        if (texts.isEmpty()) return new float[0][];
        try (Scope s = Scope.open()) {
            return Grad.noGrad(() -> features(encodeText(tokens(texts)), normalize));
        }
    }

    private Tensor encodeImage(Tensor images) {
        return onnx != null ? onnx.encodeImage(images) : model.encodeImage(images);
    }

    private Tensor encodeText(Tensor tokens) {
        return onnx != null ? onnx.encodeText(tokens) : model.encodeText(tokens);
    }

    /** Frees the ONNX Runtime sessions (nothing to free on libtorch, whose tensors the garbage collector frees). */
    @Override
    public void close() {
        if (onnx != null) onnx.close();
    }

    private Tensor tokens(List<String> texts) {
        return Tensors.fromRows(tokenizer().tokenize(texts, model.contextLength(), true));
    }

    private static float[][] features(Tensor f, boolean normalize) {
        Tensor out = Tensors.to(f, DType.F32);
        return Tensors.toMatrix(normalize ? NN.l2Normalize(out) : out);
    }

    /**
     * The seed demo: for each image, {@code softmax(logit_scale.exp() * cosine(image, label text))} over the labels.
     * Labels are encoded in batches of {@link InputLimits#LABELS_PER_BATCH} and images in batches of 32, so memory
     * stays bounded for thousands of labels or images (the result is the same as one batch).
     */
    public float[][] classify(List<Path> images, List<String> labels) {
        if (model.scoring() == dev.clip4j.model.Scoring.TOKEN_WISE) {
            float[][] scores = tokenWise(images.stream().map(ImageInput::of).toList(), labels);
            if (scores.length == 0 || labels.isEmpty()) return scores;
            try (Scope s = Scope.open()) {
                Tensor t = Tensors.fromRows(scores);
                return Grad.noGrad(() -> Tensors.toMatrix(NN.softmax(model.logitScale().mul(t), -1)));
            }
        }
        // images first (a bad file is reported before any label work), each batch kept as its features only
        List<float[]> image = List.of(encodeImages(images, false));
        int perBatch = InputLimits.LABELS_PER_BATCH.getInt();
        List<float[]> text = new ArrayList<>();
        for (int i = 0; i < labels.size(); i += perBatch) {
            StopSignal.check();
            text.addAll(List.of(encodeTexts(labels.subList(i, Math.min(labels.size(), i + perBatch)), false)));
        }
        if (image.isEmpty()) return new float[0][];
        try (Scope s = Scope.open()) {
            Tensor img = Tensors.fromRows(image.toArray(new float[0][])), txt = Tensors.fromRows(text.toArray(new float[0][]));
            return Grad.noGrad(() -> Tensors.toMatrix(NN.softmax(model.similarity(img, txt).perImage(), -1)));
        }
    }

    /**
     * Cosine similarity between every image and every text ([images][texts]); for a model trained token-wise, FILIP's
     * image-to-text score ({@link dev.clip4j.model.TokenWiseSimilarity}) instead.
     */
    public float[][] similarity(List<Path> images, List<String> texts) {
        if (model.scoring() == dev.clip4j.model.Scoring.TOKEN_WISE) return tokenWise(images.stream().map(ImageInput::of).toList(), texts);
        return dev.clip4j.eval.Similarity.scores(encodeImages(images, true), encodeTexts(texts, true));
    }

    /** Token-wise image-to-text scores, images in batches of 32 and texts in batches of the label limit. */
    private float[][] tokenWise(List<ImageInput> images, List<String> texts) {
        float[][] out = new float[images.size()][texts.size()];
        int perBatch = InputLimits.LABELS_PER_BATCH.getInt();
        for (int i = 0; i < images.size(); i += IMAGES_PER_BATCH) {
            StopSignal.check();
            List<ImageInput> batch = images.subList(i, Math.min(images.size(), i + IMAGES_PER_BATCH));
            try (Scope s = Scope.open()) {
                Tensor img = Grad.noGrad(() -> model.encodeImageTokens(preprocess.batchInputs(batch)));
                for (int j = 0; j < texts.size(); j += perBatch) {
                    try (Scope inner = Scope.open()) {
                        Tensor tok = tokens(texts.subList(j, Math.min(texts.size(), j + perBatch)));
                        float[][] rows = Grad.noGrad(() -> Tensors.toMatrix(dev.clip4j.model.TokenWiseSimilarity.of(img,
                                model.encodeTextTokens(tok), dev.clip4j.model.TokenWiseSimilarity.textValid(tok)).imageToText()));
                        for (int r = 0; r < rows.length; r++) System.arraycopy(rows[r], 0, out[i + r], j, rows[r].length);
                    }
                }
            }
        }
        return out;
    }

    /** Applies a prompt template ({@code {}} replaced by each label) as the seed demo does. */
    public static List<String> prompts(String template, List<String> labels) {
        List<String> out = new ArrayList<>();
        for (String l : labels) out.add(template.contains("{}") ? template.replace("{}", l) : template + " " + l);
        return out;
    }
}
