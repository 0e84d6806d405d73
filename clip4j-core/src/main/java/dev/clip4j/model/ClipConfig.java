package dev.clip4j.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * A CLIP architecture as data, with OpenAI's constructor argument names ({@code embed_dim}, ...). A ViT has
 * one entry in {@code vision_layers} and a patch size; a ModifiedResNet has four stage depths and no patch size.
 */
public record ClipConfig(
        String name,
        int embedDim,
        int imageResolution,
        int[] visionLayers,
        int visionWidth,
        Integer visionPatchSize,
        int visionHeads,
        int contextLength,
        int vocabSize,
        int transformerWidth,
        int transformerHeads,
        int transformerLayers,
        @JsonInclude(JsonInclude.Include.NON_NULL) String textAttention) {

    /** {@code text_attention} of a text tower that attends both ways over the non-padding tokens (pretraining's). */
    public static final String BIDIRECTIONAL = "bidirectional";

    /** OpenAI's twelve fields; the text tower is causal, as CLIP's. */
    public ClipConfig(String name, int embedDim, int imageResolution, int[] visionLayers, int visionWidth,
                      Integer visionPatchSize, int visionHeads, int contextLength, int vocabSize, int transformerWidth,
                      int transformerHeads, int transformerLayers) {
        this(name, embedDim, imageResolution, visionLayers, visionWidth, visionPatchSize, visionHeads, contextLength,
                vocabSize, transformerWidth, transformerHeads, transformerLayers, null);
    }

    /** The bundled configurations: OpenAI's nine, plus small ones for CPU training. */
    public static final List<String> BUILT_IN = List.of("RN50", "RN101", "RN50x4", "RN50x16", "RN50x64",
            "ViT-B-32", "ViT-B-16", "ViT-L-14", "ViT-L-14-336", "tiny-vit", "small-vit");

    static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
            .enable(SerializationFeature.INDENT_OUTPUT);

    public ClipConfig {
        if (visionLayers == null || (visionLayers.length != 1 && visionLayers.length != 4)) {
            throw new IllegalArgumentException("vision_layers must have 1 (ViT) or 4 (ResNet) entries");
        }
        visionLayers = visionLayers.clone();
        if (visionLayers.length == 1 && (visionPatchSize == null || visionPatchSize <= 0)) {
            throw new IllegalArgumentException("a ViT config needs vision_patch_size");
        }
        boolean vit = visionLayers.length == 1;
        for (int l : visionLayers) {
            // a ViT of zero blocks is a single-stream pretraining model's patch embedder
            if (l < (vit ? 0 : 1) || l > 1024) throw new IllegalArgumentException("vision_layers entries must be " + (vit ? 0 : 1) + "..1024, got " + l);
        }
        if (transformerLayers < 1 || transformerLayers > 1024) {
            throw new IllegalArgumentException("transformer_layers must be 1..1024, got " + transformerLayers);
        }
        if (vit && imageResolution % visionPatchSize != 0) {
            throw new IllegalArgumentException("image_resolution " + imageResolution + " is not a multiple of the patch size " + visionPatchSize);
        }
        if (!vit && imageResolution % 32 != 0) {
            throw new IllegalArgumentException("a ResNet's image_resolution must be a multiple of 32, got " + imageResolution);
        }
        if (vit && visionWidth % visionHeads != 0) throw new IllegalArgumentException("vision_width not divisible by vision_heads");
        if (transformerWidth % transformerHeads != 0) throw new IllegalArgumentException("transformer_width not divisible by transformer_heads");
        if (contextLength < 2 || vocabSize < 3) throw new IllegalArgumentException("context_length or vocab_size too small");
        // absent (null) is CLIP's causal mask; the field is only written for the other kind, so CLIP configs keep their form
        if ("causal".equals(textAttention)) textAttention = null;
        if (textAttention != null && !textAttention.equals(BIDIRECTIONAL)) {
            throw new IllegalArgumentException("text_attention must be 'causal' or '" + BIDIRECTIONAL + "', got '" + textAttention + "'");
        }
    }

    /**
     * Whether the text tower attends both ways, masking only the padding after the end-of-text token (a pretrained
     * fusion model's text encoder), instead of CLIP's causal mask. Both pool at the end-of-text token.
     */
    @JsonIgnore
    public boolean bidirectionalText() {
        return BIDIRECTIONAL.equals(textAttention);
    }

    /** This config with another text attention ({@code bidirectional}, or null for causal) and vocabulary size. */
    public ClipConfig withText(String attention, int vocab) {
        return new ClipConfig(name, embedDim, imageResolution, visionLayers, visionWidth, visionPatchSize, visionHeads,
                contextLength, vocab, transformerWidth, transformerHeads, transformerLayers, attention);
    }

    @JsonIgnore
    public boolean isVit() {
        return visionLayers.length == 1;
    }

    /** Width of the ResNet's attention pool ({@code vision_width * 32}). */
    @JsonIgnore
    public int resnetEmbedWidth() {
        return visionWidth * 32;
    }

    public ClipConfig withName(String newName) {
        return new ClipConfig(newName, embedDim, imageResolution, visionLayers, visionWidth, visionPatchSize, visionHeads,
                contextLength, vocabSize, transformerWidth, transformerHeads, transformerLayers, textAttention);
    }

    /** A bundled config by name; {@code ViT-B/32} and {@code ViT-L/14@336px} spellings are accepted. */
    public static ClipConfig builtIn(String name) {
        String key = name.replace('/', '-').replace("@336px", "-336");
        try (InputStream in = ClipConfig.class.getResourceAsStream("configs/" + key + ".json")) {
            if (in == null) throw new IllegalArgumentException("unknown architecture '" + name + "' (known: " + String.join(", ", BUILT_IN) + ")");
            return JSON.readValue(in, ClipConfig.class);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read bundled config " + key, e);
        }
    }

    public static ClipConfig read(Path file) throws IOException {
        try {
            return JSON.readValue(Files.readAllBytes(file), ClipConfig.class);
        } catch (IOException | IllegalArgumentException e) {
            throw new IOException(file + ": not a clip4j model config: " + e.getMessage(), e);
        }
    }

    /** A config from JSON text (fields it does not know, such as a pretraining arch's, are ignored). */
    public static ClipConfig parse(String json, String origin) throws IOException {
        try {
            return JSON.readValue(json, ClipConfig.class);
        } catch (IOException | IllegalArgumentException e) {
            throw new IOException(origin + ": not a clip4j model config: " + e.getMessage(), e);
        }
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClipConfig c && toJson().equals(c.toJson());
    }

    @Override
    public int hashCode() {
        return toJson().hashCode();
    }

    @Override
    public String toString() {
        return "ClipConfig" + Arrays.toString(new Object[] {name, embedDim, imageResolution, Arrays.toString(visionLayers),
                visionWidth, visionPatchSize, visionHeads, contextLength, vocabSize, transformerWidth, transformerHeads,
                transformerLayers, textAttention == null ? "causal" : textAttention});
    }

    @JsonProperty("vision_layers")
    public int[] visionLayers() {
        return visionLayers.clone();
    }
}
