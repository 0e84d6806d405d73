package dev.clip4j.adapt;

import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.model.ClipConfig;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Torch;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Shared by the adaptation tests: a small CLIP with the real vocabulary (random weights, saved as a clip4j model, so
 * its hand-written prompts are at chance) and class folders of noisy colour squares, 12 per class.
 */
record AdaptFixture(ClipModel clip, Path model, Path data) {
    static final List<String> NAMES = List.of("red", "sky blue", "green");
    static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
    private static AdaptFixture instance;

    static synchronized AdaptFixture get() throws Exception {
        if (instance == null) instance = create(Files.createTempDirectory("clip4j-adapt-test"));
        return instance;
    }

    private static AdaptFixture create(Path dir) throws Exception {
        Torch.manualSeed(7);
        ClipModel fresh = ClipModel.create(new ClipConfig("t", 32, 16, new int[] {2}, 64, 8, 2, 77, 49408, 64, 2, 2));
        Path model = dir.resolve("clip");
        ClipCheckpoint.save(fresh, model);
        Random rng = new Random(5);
        int[][] rgb = {{220, 30, 30}, {60, 150, 235}, {30, 200, 40}};
        for (int c = 0; c < NAMES.size(); c++) {
            Path d = Files.createDirectories(dir.resolve("data").resolve(NAMES.get(c).replace(' ', '_')));
            for (int i = 0; i < 12; i++) {
                BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_3BYTE_BGR);
                for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) {
                    int r = clamp(rgb[c][0] + rng.nextInt(81) - 40), g = clamp(rgb[c][1] + rng.nextInt(81) - 40),
                            b = clamp(rgb[c][2] + rng.nextInt(81) - 40);
                    img.setRGB(x, y, r << 16 | g << 8 | b);
                }
                ImageIO.write(img, "png", d.resolve(i + ".png").toFile());
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                dev.clip4j.data.DataFiles.deleteTree(dir);
            } catch (java.io.IOException e) {
                // a temporary directory: the OS cleans it eventually
            }
        }));
        return new AdaptFixture(ClipCheckpoint.loadModel(model), model, dir.resolve("data"));
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }
}
