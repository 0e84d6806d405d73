package dev.clip4j.model;

import dev.clip4j.nn.Init;
import dev.clip4j.nn.Module;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Tensors;
import dev.clip4j.torch.Torch;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * OpenAI's CLIP: an image tower (ViT or ModifiedResNet) and a causal text transformer projected into one
 * space, compared by cosine similarity times {@code exp(logit_scale)}. Tensor names are those of OpenAI's
 * {@code state_dict}.
 */
public final class ClipModel extends Module implements FeatureEncoder {
    /** {@code ln(100)}: the scale {@code exp(logit_scale)} never exceeds 100. */
    public static final double MAX_LOGIT_SCALE = Math.log(100.0);
    /** OpenAI's initial temperature: {@code ln(1 / 0.07)}. */
    public static final double INIT_LOGIT_SCALE = Math.log(1 / 0.07);
    /** Keys that {@code build_model} drops from OpenAI's archives and that carry no weights. */
    private static final Set<String> IGNORED = Set.of("input_resolution", "context_length", "vocab_size");

    private final ClipConfig config;
    private final ImageTower visual;
    private final TextTransformer text;
    private Scoring scoring = Scoring.POOLED;
    /** Why the text tower's weights are gone ({@link #dropTextTower}, {@link #releaseTower}), or null while they are here. */
    private String textGone;
    /** Why the image tower's weights are gone ({@link #releaseTower}), or null while they are here. */
    private String imageGone;

    /** Both towers' logits: {@code [images, texts]} and its transpose. */
    public record Logits(Tensor perImage, Tensor perText) {}

    /**
     * What {@link #forward} returns, as open_clip: both towers' (unnormalised) features and {@code exp(logit_scale)};
     * losses build their logits from it.
     */
    public record Features(Tensor image, Tensor text, Tensor logitScale) {
        /** CLIP's logits: cosine similarities of the normalised features (in float32) times the logit scale. */
        public Logits logits() {
            Tensor img = NN.l2Normalize(atLeastFloat32(image));
            Tensor txt = NN.l2Normalize(atLeastFloat32(text));
            Tensor perImage = logitScale.mul(img.matmul(txt.t()));
            return new Logits(perImage, perImage.t());
        }
    }

    /** Half-precision features in float32 (autocast's bf16); float32 and float64 kept. */
    public static Tensor atLeastFloat32(Tensor t) {
        return Tensors.dtype(t) == DType.F64 ? t : Tensors.to(t, DType.F32);
    }

    private ClipModel(ClipConfig c) {
        Torch.init();
        this.config = c;
        visual = child("visual", c.isVit()
                ? new VisionTransformer(c.imageResolution(), c.visionPatchSize(), c.visionWidth(), c.visionLayers()[0],
                        c.visionHeads(), c.embedDim())
                : new ModifiedResNet(c.visionLayers(), c.embedDim(), c.visionHeads(), c.imageResolution(), c.visionWidth()));
        text = child("", new TextTransformer(c.contextLength(), c.vocabSize(), c.transformerWidth(), c.transformerLayers(),
                c.transformerHeads(), c.embedDim(), c.bidirectionalText()));
        parameter("logit_scale", Init.isSkipping() ? Tensors.scalar(0) : Tensors.scalar(INIT_LOGIT_SCALE));
        text.transformer().initializeLikeOpenAi();
        if (visual instanceof VisionTransformer vit) vit.transformer().initializeLikeOpenAi();
        train(false);
    }

    /** A model with OpenAI's random initialisation (seed with {@link Torch#manualSeed} for reproducibility). */
    public static ClipModel create(ClipConfig config) {
        return new ClipModel(config);
    }

    /**
     * A model of {@code config} holding the given weights (OpenAI names), built without random initialisation;
     * {@code origin} names the source in errors.
     */
    public static ClipModel fromStateDict(ClipConfig config, Map<String, Tensor> weights, String origin) {
        ClipModel m = Init.skipping(() -> new ClipModel(config));
        m.loadStateDict(weights, origin, false);
        return m;
    }

    /**
     * A model of {@code config} with uninitialised weights (no memory touched yet), in evaluation mode: for
     * {@link Module#stream} to load into.
     */
    public static ClipModel blankFor(ClipConfig config) {
        return Init.skipping(() -> new ClipModel(config));
    }

    /**
     * As {@link #fromStateDict}, taking over tensors of the model's dtype as its parameters instead of copying them
     * ({@link Module#load(Map, String, boolean)}): for weights just read from a file, which the caller then drops.
     */
    public static ClipModel adoptingStateDict(ClipConfig config, Map<String, Tensor> weights, String origin) {
        ClipModel m = Init.skipping(() -> new ClipModel(config));
        m.loadStateDict(weights, origin, true);
        return m;
    }

    public ClipConfig config() {
        return config;
    }

    @Override
    public int imageResolution() {
        return config.imageResolution();
    }

    @Override
    public int contextLength() {
        return config.contextLength();
    }

    public ImageTower visual() {
        return visual;
    }

    public TextTransformer text() {
        return text;
    }

    /** images: [B, 3, R, R] preprocessed; returns [B, embed_dim] unnormalised features, in the model's dtype. */
    @Override
    public Tensor encodeImage(Tensor images) {
        if (images.dim() != 4 || images.size(1) != 3) {
            throw new IllegalArgumentException("images must be [B, 3, H, W], got " + java.util.Arrays.toString(Tensors.shape(images)));
        }
        requireUnimodal();
        requireImage();
        return visual.encode(images);
    }

    /** tokens: [B, L] int64 ids (L ≤ context length, EOT the highest id per row); returns [B, embed_dim]. */
    @Override
    public Tensor encodeText(Tensor tokens) {
        requireUnimodal();
        requireText();
        return text.encodeText(tokens);
    }

    /**
     * Frees the text tower's weights (a ViT-B/32's ~250 MB in float32): for work that embeds images only, such as an
     * image collection's embeddings. The model then refuses everything that needs the text tower or all weights
     * ({@link #encodeText}, {@link #forward}, a fingerprint, saving). The streamed load
     * ({@link dev.clip4j.checkpoint.ClipCheckpoint#loadForInference}) calls it before reading anything, so the text
     * tower is never read into memory at all.
     */
    public ClipModel dropTextTower() {
        requireUnimodal(); // a single-stream model's text tower is its joint encoder
        releaseTower(false, "this model was loaded for images only (its text tower was not read)");
        return this;
    }

    /**
     * Frees the image tower's weights (a ViT-B/32's ~350 MB in float32): for work that encodes texts only, such as a
     * search by sentence. As {@link #dropTextTower}, the streamed load calls it before reading anything.
     */
    public ClipModel dropImageTower() {
        requireUnimodal(); // a single-stream model's image tower is a patch embedder for its joint encoder
        releaseTower(true, "this model was loaded for texts only (its image tower was not read)");
        return this;
    }

    /**
     * Frees one tower's weights, float or int8 ({@link dev.clip4j.nn.Module#releaseWeights}): for a tower that runs
     * elsewhere from a copy of its own, such as ONNX Runtime's packed weights ({@link dev.clip4j.onnx.OnnxClip} of a
     * handed-over model), or that the work never needs ({@link #dropTextTower}). Everything that needs them then
     * refuses, saying {@code why}.
     */
    public void releaseTower(boolean image, String why) {
        (image ? visual : text).releaseWeights();
        if (image) imageGone = java.util.Objects.requireNonNull(why);
        else textGone = java.util.Objects.requireNonNull(why);
    }

    /** Whether the text tower is here ({@link #dropTextTower}, {@link #releaseTower}). */
    public boolean hasTextTower() {
        return textGone == null;
    }

    /** Refuses work that needs the text tower's weights once they are gone, saying why. */
    public void requireText() {
        if (textGone != null) throw new IllegalStateException(textGone);
    }

    /** Refuses work that needs the image tower's weights once they are gone, saying why. */
    public void requireImage() {
        if (imageGone != null) throw new IllegalStateException(imageGone);
    }

    /** Refuses work that needs every weight (a fingerprint, saving, training) once a tower's are gone. */
    public void requireAllWeights() {
        requireImage();
        requireText();
    }

    /** Whether {@code name} (a state-dict name) belongs to what {@link #dropTextTower} keeps: the image tower and logit scale. */
    public static boolean isImageSide(String name) {
        return name.startsWith("visual.") || name.equals("logit_scale");
    }

    /** Whether {@code name} belongs to what {@link #dropImageTower} keeps: everything outside the image tower. */
    public static boolean isTextSide(String name) {
        return !name.startsWith("visual.");
    }

    /**
     * Whether these are a single-stream pretraining model's embedders (an image tower of zero blocks, the text tower
     * its joint encoder) rather than two unimodal encoders.
     */
    public boolean isSingleStream() {
        return visual instanceof VisionTransformer v && v.transformer().layers() == 0;
    }

    private void requireUnimodal() {
        if (isSingleStream()) {
            throw new dev.clip4j.InputException("this is a single-stream pretraining model: it scores image-text pairs jointly "
                    + "(ITM) and has no separate image or text features to embed, classify or index with");
        }
    }

    /** Image token features projected into the shared space [B, L, embed_dim] (unnormalised), for {@link Scoring#TOKEN_WISE}. */
    public Tensor encodeImageTokens(Tensor images) {
        requireUnimodal();
        requireImage();
        return visual.encodeTokenFeatures(images);
    }

    /** Text token features projected into the shared space [B, L, embed_dim] (unnormalised); padding included. */
    public Tensor encodeTextTokens(Tensor tokens) {
        requireUnimodal();
        requireText();
        return text.encodeTokenFeatures(tokens);
    }

    /** How zero-shot and retrieval compare images with texts: CLIP's pooled cosine unless trained token-wise. */
    public Scoring scoring() {
        return scoring;
    }

    public ClipModel scoring(Scoring s) {
        scoring = java.util.Objects.requireNonNull(s);
        return this;
    }

    /** {@code exp(logit_scale)}, clamped to at most 100. */
    public Tensor logitScale() {
        return Ops.clamp(p("logit_scale"), null, MAX_LOGIT_SCALE).exp();
    }

    /** The raw parameter {@code logit_scale} (its log), e.g. for the clamp after an optimizer step. */
    public Tensor logitScaleParameter() {
        return p("logit_scale");
    }

    /** CLIP's forward, as open_clip: both towers' features and the logit scale ({@link Features#logits()} for CLIP's logits). */
    public Features forward(Tensor images, Tensor tokens) {
        return new Features(encodeImage(images), encodeText(tokens), logitScale());
    }

    /** Logits from precomputed (unnormalised) features, computed in float32. */
    public Logits similarity(Tensor imageFeatures, Tensor textFeatures) {
        return new Features(imageFeatures, textFeatures, logitScale()).logits();
    }

    /** Training mode (BatchNorm uses batch statistics) or evaluation mode. */
    @Override
    public ClipModel train(boolean training) {
        super.train(training);
        return this;
    }

    /** The trainable parameters, by name (all parameters, whether frozen or not). */
    public Map<String, Tensor> parameters() {
        return namedParameters();
    }

    /**
     * Copies a state dict into the model (converting dtypes). Every model tensor must be present with the same
     * shape, except BatchNorm's {@code num_batches_tracked}; unknown keys are an error, except the ones OpenAI's
     * archives carry without weights.
     */
    public void loadStateDict(Map<String, Tensor> weights, String origin) {
        loadStateDict(weights, origin, false);
    }

    private void loadStateDict(Map<String, Tensor> weights, String origin, boolean adopt) {
        requireKnownTensors(weights.keySet(), origin);
        load(weights, origin, adopt);
    }

    /**
     * Refuses a checkpoint naming tensors this model does not have (another architecture's), beyond the entries
     * OpenAI's archives carry without weights; before anything is read.
     */
    public void requireKnownTensors(java.util.Collection<String> names, String origin) {
        List<String> unexpected = new ArrayList<>();
        Map<String, Tensor> mine = stateDict();
        for (String k : names) {
            if (!mine.containsKey(k) && !IGNORED.contains(k) && !k.endsWith("attn_mask")) unexpected.add(k);
        }
        if (!unexpected.isEmpty()) {
            throw new IllegalArgumentException(origin + ": tensors the model does not have: "
                    + String.join(", ", unexpected.subList(0, Math.min(5, unexpected.size())))
                    + (unexpected.size() > 5 ? " (and " + (unexpected.size() - 5) + " more)" : ""));
        }
    }

    /** The dtype matrix products run in (that of the image tower's first weights). */
    public DType computeType() {
        return Tensors.dtype(stateDict().get("visual.conv1.weight"));
    }

    /**
     * Converts the model for bf16 inference, as OpenAI's {@code convert_weights} does for fp16: convolutions,
     * linear layers, attention and projections in bf16; LayerNorm, BatchNorm and {@code logit_scale} stay float32
     * (each module says which of its tensors stay, {@link Module#to}).
     */
    public ClipModel toBf16() {
        to(DType.BF16);
        return this;
    }

    /**
     * Converts this float32 model in place for int8 inference ({@link Module#quantizeInt8}): the linear layers of both
     * towers (attention, MLP, a ResNet's attention pool) and a ViT's patch embedding (a linear map of each patch) in
     * int8; a ResNet's convolutions, norms, embeddings and the two projection matrices in float32. Inference only from
     * then on.
     */
    public ClipModel toInt8() {
        train(false).quantizeInt8();
        return this;
    }

    @Override
    protected boolean keepsFloat32(String name) {
        return name.equals("logit_scale");
    }

    @Override
    protected Module blank() {
        ClipModel twin = new ClipModel(config);
        twin.scoring = scoring;
        return twin;
    }
}
