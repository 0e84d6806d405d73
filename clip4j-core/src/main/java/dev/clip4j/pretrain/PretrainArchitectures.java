package dev.clip4j.pretrain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.clip4j.InputException;
import dev.clip4j.model.ClipConfig;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Pretraining architectures as data: a CLIP config (the unimodal towers) plus {@code fusion_layers}. Bundled:
 * {@code fusion-tiny} (tiny-vit's towers, 2 text + 2 fusion layers: learns on 2 cores in minutes) and
 * {@code albef-base} (ALBEF's shapes: ViT-B/16 at 256 px, a 768-wide text stack of 6 layers plus 6 fusion layers,
 * 256-d projections), {@code single-stream-tiny} (a 4-layer 128-wide joint encoder; its image tower is only a patch
 * embedder, zero blocks). Any CLIP arch name or config JSON works too; its text tower becomes bidirectional with the
 * [MASK] id added ({@link PretrainVocabulary#SIZE}).
 */
public final class PretrainArchitectures {
    public static final List<String> BUILT_IN = List.of("fusion-tiny", "albef-base", "single-stream-tiny");
    public static final String DEFAULT = "fusion-tiny";
    private static final ObjectMapper JSON = new ObjectMapper();

    private PretrainArchitectures() {}

    /** An architecture: the towers' config (bidirectional text, vocabulary with [MASK]) and its fusion depth. */
    public record Architecture(ClipConfig clip, int fusionLayers) {}

    public static Architecture resolve(String arch) {
        try {
            JsonNode raw;
            ClipConfig clip;
            if (BUILT_IN.contains(arch)) {
                try (InputStream in = PretrainArchitectures.class.getResourceAsStream(arch + ".json")) {
                    raw = JSON.readTree(in);
                }
                clip = ClipConfig.parse(raw.toString(), arch);
            } else if (arch.endsWith(".json") && Files.isRegularFile(Path.of(arch))) {
                raw = JSON.readTree(Path.of(arch).toFile());
                clip = ClipConfig.read(Path.of(arch));
            } else {
                raw = JSON.createObjectNode();
                try {
                    clip = ClipConfig.builtIn(arch);
                } catch (IllegalArgumentException e) {
                    throw new InputException("unknown architecture '" + arch + "' (pretraining: " + String.join(", ", BUILT_IN)
                            + ", or a CLIP arch: " + String.join(", ", ClipConfig.BUILT_IN) + ", or a config JSON)");
                }
            }
            int fusion = raw.path("fusion_layers").asInt(2);
            return new Architecture(clip.withText(ClipConfig.BIDIRECTIONAL, PretrainVocabulary.SIZE), fusion);
        } catch (IOException e) {
            throw new InputException(arch + ": " + e.getMessage());
        }
    }
}
