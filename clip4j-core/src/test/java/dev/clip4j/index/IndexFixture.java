package dev.clip4j.index;

import dev.clip4j.train.TrainOptions;
import dev.clip4j.train.Trainer;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Shared by the index tests: a tiny CLIP trained for a few seconds (and another, barely trained, for model-mismatch cases) on noisy solid-colour images (so "red" finds the
 * red ones), and a generator of such images.
 */
public record IndexFixture(Path model, Path otherModel) {
    public static final String[] COLOURS = {"red", "green", "blue"};
    private static final int[][] RGB = {{220, 30, 30}, {30, 200, 40}, {40, 50, 220}};
    private static IndexFixture instance;

    public static synchronized IndexFixture get() throws IOException {
        if (instance == null) {
            Path dir = Files.createTempDirectory("clip4j-index-test");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    dev.clip4j.data.DataFiles.deleteTree(dir);
                } catch (IOException e) {
                    // a temporary directory: the OS cleans it eventually
                }
            }));
            Path data = colourFolders(dir.resolve("train"), 12, 2);
            Path config = dir.resolve("tiny.json");
            Files.writeString(config, "{\"name\": \"index-test\", \"embed_dim\": 16, \"image_resolution\": 16, \"vision_layers\": [1],"
                    + " \"vision_width\": 32, \"vision_patch_size\": 8, \"vision_heads\": 1, \"context_length\": 77,"
                    + " \"vocab_size\": 49408, \"transformer_width\": 32, \"transformer_heads\": 1, \"transformer_layers\": 1}");
            instance = new IndexFixture(train(data, config, dir.resolve("run"), 42, 40), train(data, config, dir.resolve("other"), 43, 1));
        }
        return instance;
    }

    private static Path train(Path data, Path config, Path run, long seed, int epochs) throws IOException {
        TrainOptions o = TrainOptions.builder().data(data.toString()).arch(config.toString()).epochs(epochs).batchSize(12)
                .lr(1e-3).warmupSteps(2).weightDecay(0.2).clipNorm(1.0).seed(seed).loaderThreads(2).build();
        new Trainer(o, run, false, new PrintStream(OutputStream.nullOutputStream())).run();
        return run.resolve("checkpoint");
    }

    /** {@code perClass} noisy images of each colour, in folders named after the colours. */
    public static Path colourFolders(Path root, int perClass, long seed) throws IOException {
        Random rng = new Random(seed);
        for (int c = 0; c < COLOURS.length; c++) {
            Path dir = Files.createDirectories(root.resolve(COLOURS[c]));
            for (int i = 0; i < perClass; i++) write(image(c, rng), dir.resolve(i + ".png"));
        }
        return root;
    }

    public static BufferedImage image(int colour, Random rng) {
        BufferedImage img = new BufferedImage(20, 20, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < 20; y++) {
            for (int x = 0; x < 20; x++) {
                int r = clamp(RGB[colour][0] + rng.nextInt(61) - 30), g = clamp(RGB[colour][1] + rng.nextInt(61) - 30),
                        b = clamp(RGB[colour][2] + rng.nextInt(61) - 30);
                img.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return img;
    }

    public static void write(BufferedImage img, Path file) throws IOException {
        Files.createDirectories(file.getParent());
        ImageIO.write(img, "png", file.toFile());
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }
}
