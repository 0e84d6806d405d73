package dev.clip4j.checkpoint;

import dev.clip4j.model.ClipConfig;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Infers a {@link ClipConfig} from tensor shapes, as OpenAI's {@code build_model} does: a ViT has {@code visual.proj};
 * heads are width / 64 (text) and width / 64 or width * 32 / 64 (vision), as in every OpenAI checkpoint.
 */
public final class ArchitectureInference {
    private ArchitectureInference() {}

    public static ClipConfig infer(Map<String, long[]> shapes, String origin) {
        try {
            boolean vit = shapes.containsKey("visual.proj");
            int embedDim = dim(shapes, "text_projection", 1);
            int contextLength = dim(shapes, "positional_embedding", 0);
            int vocabSize = dim(shapes, "token_embedding.weight", 0);
            int textWidth = dim(shapes, "ln_final.weight", 0);
            int textLayers = countIndices(shapes.keySet(), "transformer.resblocks.", 2);
            if (vit) {
                int width = dim(shapes, "visual.conv1.weight", 0);
                int layers = (int) shapes.keySet().stream()
                        .filter(k -> k.startsWith("visual.") && k.endsWith(".attn.in_proj_weight")).count();
                long[] conv = shapes.get("visual.conv1.weight");
                int patch = (int) conv[conv.length - 1];
                int grid = (int) Math.round(Math.sqrt(dim(shapes, "visual.positional_embedding", 0) - 1));
                return new ClipConfig("inferred", embedDim, patch * grid, new int[] {layers}, width, patch, width / 64,
                        contextLength, vocabSize, textWidth, Math.max(1, textWidth / 64), textLayers);
            }
            int[] layers = new int[4];
            for (int b = 0; b < 4; b++) layers[b] = countIndices(shapes.keySet(), "visual.layer" + (b + 1) + ".", 2);
            int width = dim(shapes, "visual.layer1.0.conv1.weight", 0);
            int outputWidth = (int) Math.round(Math.sqrt(dim(shapes, "visual.attnpool.positional_embedding", 0) - 1));
            return new ClipConfig("inferred", embedDim, outputWidth * 32, layers, width, null, width * 32 / 64,
                    contextLength, vocabSize, textWidth, Math.max(1, textWidth / 64), textLayers);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(origin + ": not a CLIP checkpoint: " + e.getMessage());
        }
    }

    private static int dim(Map<String, long[]> shapes, String key, int axis) {
        long[] s = shapes.get(key);
        if (s == null) throw new IllegalArgumentException("tensor '" + key + "' is missing");
        if (s.length <= axis) throw new IllegalArgumentException("tensor '" + key + "' has too few dimensions");
        return (int) s[axis];
    }

    /** Number of distinct {@code <prefix><n>.} indices (the component at dot-position {@code part}). */
    private static int countIndices(Set<String> keys, String prefix, int part) {
        Set<String> seen = new TreeSet<>();
        for (String k : keys) {
            if (k.startsWith(prefix)) seen.add(k.split("\\.")[part]);
        }
        return seen.size();
    }
}
