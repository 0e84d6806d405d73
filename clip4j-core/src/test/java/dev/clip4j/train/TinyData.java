package dev.clip4j.train;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Small on-disk datasets for training tests: class folders of noisy solid-colour images, and a tiny config. */
public final class TinyData {
    private TinyData() {}

    static final String[] CLASSES = {"red", "green", "blue"};

    public static Path colourFolders(Path root, int perClass, long seed) throws IOException {
        Random rng = new Random(seed);
        int[][] rgb = {{220, 30, 30}, {30, 200, 40}, {40, 50, 220}};
        for (int c = 0; c < CLASSES.length; c++) {
            Path dir = Files.createDirectories(root.resolve(CLASSES[c]));
            for (int i = 0; i < perClass; i++) {
                BufferedImage img = new BufferedImage(20, 20, BufferedImage.TYPE_3BYTE_BGR);
                for (int y = 0; y < 20; y++) {
                    for (int x = 0; x < 20; x++) {
                        int r = clamp(rgb[c][0] + rng.nextInt(61) - 30), g = clamp(rgb[c][1] + rng.nextInt(61) - 30),
                                b = clamp(rgb[c][2] + rng.nextInt(61) - 30);
                        img.setRGB(x, y, (r << 16) | (g << 8) | b);
                    }
                }
                ImageIO.write(img, "png", dir.resolve(i + ".png").toFile());
            }
        }
        return root;
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }

    public static Path tinyConfig(Path dir) throws IOException {
        Path f = dir.resolve("tiny.json");
        Files.writeString(f, "{\"name\": \"test-tiny\", \"embed_dim\": 16, \"image_resolution\": 16, \"vision_layers\": [1],"
                + " \"vision_width\": 32, \"vision_patch_size\": 8, \"vision_heads\": 1, \"context_length\": 77,"
                + " \"vocab_size\": 49408, \"transformer_width\": 32, \"transformer_heads\": 1, \"transformer_layers\": 1}");
        return f;
    }

    /** Each step's loss from a run's metrics.jsonl, in order (evaluation lines have none). */
    public static java.util.List<Double> losses(Path run) throws IOException {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        java.util.List<Double> out = new java.util.ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            var node = json.readTree(line);
            if (node.has("loss")) out.add(node.get("loss").asDouble());
        }
        return out;
    }

    public static TrainOptions options(Path data, Path config, int epochs, int batch, int microBatch, int checkpointEvery) {
        return TrainOptions.builder().data(data.toString()).arch(config.toString()).epochs(epochs).batchSize(batch)
                .microBatch(microBatch).lr(1e-3).warmupSteps(2).weightDecay(0.2).clipNorm(1.0).seed(42)
                .checkpointEvery(checkpointEvery).loaderThreads(2).build();
    }
}
