import dev.clip4j.data.FrameFeatureDataset;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A synthetic frame-feature file for the single-stream step benchmark: N clips of T frames of dimension D (the seed's
 * video setting is 32 frames of 768), each clip one of 64 "topics" (a direction plus noise), 8..T valid frames, captioned
 * with its topic's words. Args: OUT.safetensors [N] [T] [D].
 */
public class MakeFrames {
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 2048, t = args.length > 2 ? Integer.parseInt(args[2]) : 32,
                d = args.length > 3 ? Integer.parseInt(args[3]) : 768;
        String[] words = {"cooking", "soccer", "piano", "cats", "rain", "city", "ocean", "dance"};
        SplittableRandom gen = new SplittableRandom(0);
        float[] features = new float[n * t * d];
        boolean[] mask = new boolean[n * t];
        List<String> captions = new ArrayList<>();
        for (int c = 0; c < n; c++) {
            int topic = c % 64, valid = 8 + gen.nextInt(t - 7);
            captions.add("a video of " + words[topic % 8] + " and " + words[topic / 8] + " number " + c);
            for (int f = 0; f < t; f++) {
                mask[c * t + f] = f < valid;
                for (int k = 0; k < d; k++) {
                    features[(c * t + f) * d + k] = f < valid ? (float) gen.nextGaussian() + (k % 64 == topic ? 3f : 0f) : 0f;
                }
            }
        }
        FrameFeatureDataset.write(out, features, n, t, d, mask, captions);
    }
}
