import dev.clip4j.image.ClipPreprocessor;
import dev.clip4j.image.ImageDecoder;

import java.nio.file.Path;

/** clip4j's decode + clip._transform(224) over the given images, single thread. Run by bench/run.sh. */
public class PreprocessBench {
    public static void main(String[] args) {
        ClipPreprocessor pre = new ClipPreprocessor(224);
        double best = 0;
        double sink = 0;
        for (int rep = 0; rep < 10; rep++) {
            long t0 = System.nanoTime();
            for (String a : args) sink += pre.toArray(ImageDecoder.read(Path.of(a)))[0];
            best = Math.max(best, args.length / ((System.nanoTime() - t0) / 1e9));
        }
        System.out.printf("{\"peer\": \"clip4j preprocess\", \"images\": %d, \"images_per_sec_best\": %.1f, \"checksum\": %.4f}%n",
                args.length, best, sink);
    }
}
