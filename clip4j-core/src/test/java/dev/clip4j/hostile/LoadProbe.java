package dev.clip4j.hostile;

import dev.clip4j.InputException;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.image.ImageDecoder;
import dev.clip4j.io.ProcessMemory;

import java.nio.file.Path;

/**
 * Child-JVM probe: loads one file as an image or a checkpoint and prints {@code refused: <message>} or
 * {@code loaded}, then {@code peak_rss_mb N}. Exit 0 unless something other than a clean refusal happened.
 */
public final class LoadProbe {
    public static void main(String[] args) {
        Path file = Path.of(args[1]);
        int exit = 0;
        try {
            if (args[0].equals("image")) ImageDecoder.read(file);
            else ClipCheckpoint.loadModel(file);
            System.out.println("loaded");
        } catch (InputException e) {
            System.out.println("refused: " + e.getMessage());
        } catch (Throwable t) {
            System.out.println("unexpected: " + t);
            exit = 3;
        }
        System.out.println("peak_rss_mb " + ProcessMemory.peakRssMb());
        System.exit(exit);
    }
}
