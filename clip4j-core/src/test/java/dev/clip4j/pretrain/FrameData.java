package dev.clip4j.pretrain;

import dev.clip4j.data.FrameFeatureDataset;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A small frame-feature set for the single-stream tests: clips of one of three "colours", each frame that colour's
 * direction plus noise, 2 to T valid frames, captioned "a clip of COLOUR".
 */
final class FrameData {
    static final String[] COLOURS = {"red", "green", "blue"};

    private FrameData() {}

    static Path write(Path file, int clips, int frames, int dim, long seed) throws IOException {
        SplittableRandom gen = new SplittableRandom(seed);
        float[] features = new float[clips * frames * dim];
        boolean[] mask = new boolean[clips * frames];
        List<String> captions = new ArrayList<>();
        for (int c = 0; c < clips; c++) {
            int colour = c % COLOURS.length, valid = 2 + gen.nextInt(frames - 1);
            captions.add("a clip of " + COLOURS[colour]);
            for (int t = 0; t < frames; t++) {
                mask[c * frames + t] = t < valid;
                for (int k = 0; k < dim; k++) {
                    float v = (float) gen.nextGaussian() * 0.5f + (k % COLOURS.length == colour ? 2f : 0f);
                    features[(c * frames + t) * dim + k] = t < valid ? v : 0f;
                }
            }
        }
        FrameFeatureDataset.write(file, features, clips, frames, dim, mask, captions);
        return file;
    }
}
