package dev.clip4j.model;

import dev.clip4j.torch.Ops;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Tensors;
import dev.clip4j.torch.Torch;
import org.bytedeco.pytorch.Tensor;

import java.util.Map;

/**
 * OpenAI's CLIP: an image tower (ViT or ModifiedResNet) and a causal text transformer projected into one
 * space, compared by cosine similarity times {@code exp(logit_scale)}. Tensor names are those of OpenAI's
 * {@code state_dict}.
 */
public final class ClipModel {
    /** {@code ln(100)}: the scale {@code exp(logit_scale)} never exceeds 100. */
    public static final double MAX_LOGIT_SCALE = Math.log(100.0);
    /** OpenAI's initial temperature: {@code ln(1 / 0.07)}. */
    public static final double INIT_LOGIT_SCALE = Math.log(1 / 0.07);

    private final ClipConfig config;
    private final ParameterStore store = new ParameterStore();
    private final VisionTransformer vit;
    private final ModifiedResNet resnet;
    private final TextTransformer text;

    /** Both towers' logits: {@code [images, texts]} and its transpose. */
    public record Logits(Tensor perImage, Tensor perText) {}

    private ClipModel(ClipConfig c) {
        Torch.init();
        this.config = c;
        if (c.isVit()) {
            vit = new VisionTransformer(store, "visual.", c.imageResolution(), c.visionPatchSize(), c.visionWidth(),
                    c.visionLayers()[0], c.visionHeads(), c.embedDim());
            resnet = null;
        } else {
            resnet = new ModifiedResNet(store, "visual.", c.visionLayers(), c.embedDim(), c.visionHeads(),
                    c.imageResolution(), c.visionWidth());
            vit = null;
        }
        text = new TextTransformer(store, c.contextLength(), c.vocabSize(), c.transformerWidth(), c.transformerLayers(),
                c.transformerHeads(), c.embedDim());
        store.parameter("logit_scale", Tensors.scalar(INIT_LOGIT_SCALE));
        text.transformer().initializeLikeOpenAi();
        if (vit != null) vit.transformer().initializeLikeOpenAi();
        store.training = false;
    }

    /** A model with OpenAI's random initialisation (seed with {@link Torch#manualSeed} for reproducibility). */
    public static ClipModel create(ClipConfig config) {
        return new ClipModel(config);
    }

    /** A model of {@code config} holding the given weights (OpenAI names); {@code origin} names the source in errors. */
    public static ClipModel fromStateDict(ClipConfig config, Map<String, Tensor> weights, String origin) {
        ClipModel m = new ClipModel(config);
        m.store.load(weights, origin);
        return m;
    }

    public ClipConfig config() {
        return config;
    }

    public int imageResolution() {
        return config.imageResolution();
    }

    public int contextLength() {
        return config.contextLength();
    }

    /** images: [B, 3, R, R] preprocessed; returns [B, embed_dim] unnormalised features, in the model's dtype. */
    public Tensor encodeImage(Tensor images) {
        if (images.dim() != 4 || images.size(1) != 3) {
            throw new IllegalArgumentException("images must be [B, 3, H, W], got " + java.util.Arrays.toString(Tensors.shape(images)));
        }
        return vit != null ? vit.forward(images) : resnet.forward(images);
    }

    /** tokens: [B, L] int64 ids (L ≤ context length, EOT the highest id per row); returns [B, embed_dim]. */
    public Tensor encodeText(Tensor tokens) {
        return text.forward(tokens);
    }

    /** {@code exp(logit_scale)}, clamped to at most 100. */
    public Tensor logitScale() {
        return Ops.clamp(store.get("logit_scale"), null, MAX_LOGIT_SCALE).exp();
    }

    /** CLIP's forward: cosine similarities of normalised features times the logit scale. */
    public Logits forward(Tensor images, Tensor tokens) {
        return similarity(encodeImage(images), encodeText(tokens));
    }

    /** Logits from precomputed (unnormalised) features, computed in float32. */
    public Logits similarity(Tensor imageFeatures, Tensor textFeatures) {
        Tensor img = NN.l2Normalize(Tensors.to(imageFeatures, DType.F32));
        Tensor txt = NN.l2Normalize(Tensors.to(textFeatures, DType.F32));
        Tensor perImage = logitScale().mul(img.matmul(txt.t()));
        return new Logits(perImage, perImage.t());
    }

    /** Training mode (BatchNorm uses batch statistics) or evaluation mode. */
    public ClipModel train(boolean training) {
        store.training = training;
        return this;
    }

    public boolean isTraining() {
        return store.training;
    }

    /** All tensors (parameters and buffers) under OpenAI's names. */
    public Map<String, Tensor> stateDict() {
        return store.stateDict();
    }

    /** The trainable parameters, by name. */
    public Map<String, Tensor> parameters() {
        return store.parameters();
    }

    public void loadStateDict(Map<String, Tensor> weights, String origin) {
        store.load(weights, origin);
    }

    /** The dtype matrix products run in (that of the image tower's first convolution). */
    public DType computeType() {
        return Tensors.dtype(store.get("visual.conv1.weight"));
    }

    /**
     * Converts the model for bf16 inference, as OpenAI's {@code convert_weights} does for fp16: convolutions,
     * linear layers, attention and projections in bf16; LayerNorm, BatchNorm and {@code logit_scale} stay float32
     * (LayerNorm computes in float32).
     */
    public ClipModel toBf16() {
        store.convert(DType.BF16, name -> !NORMALIZATION.matcher(name).find() && !name.equals("logit_scale"));
        return this;
    }

    /** LayerNorm ({@code ln_*}) and BatchNorm ({@code bn1..3}, {@code downsample.1}) tensors. */
    private static final java.util.regex.Pattern NORMALIZATION =
            java.util.regex.Pattern.compile("(^|\\.)(ln_\\w+|bn\\d|downsample\\.1)\\.");
}
