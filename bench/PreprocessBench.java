import dev.clip4j.image.ClipPreprocessor;
import dev.clip4j.image.ImageDecoder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * clip4j's decode (+ clip._transform(224) unless --decode-only; --folder: through the photo-folder path, decoded rows
 * straight into the resize) over the given images, single thread, the files read
 * into memory first (as the Python peer's page cache would have them). Run by bench/run.sh and bench/decode.sh; the
 * decoder is chosen with -Dclip4j.imageDecoder=auto|imageio. After three untimed passes (JIT, natives), prints one JSON
 * line: median and best images/s of 10 timed passes.
 */
public class PreprocessBench {
    public static void main(String[] args) throws Exception {
        boolean decodeOnly = args.length > 0 && args[0].equals("--decode-only");
        // --folder: the photo-folder path of embed --images and index build (rows read out of OpenCV's memory straight
        // into the resize, the full-size pixels never in the Java heap), then the normalisation
        boolean folder = args.length > 0 && args[0].equals("--folder");
        String[] paths = decodeOnly || folder ? Arrays.copyOfRange(args, 1, args.length) : args;
        byte[][] files = new byte[paths.length][];
        for (int i = 0; i < paths.length; i++) files[i] = Files.readAllBytes(Path.of(paths[i]));
        ClipPreprocessor pre = new ClipPreprocessor(224);
        double[] rates = new double[10];
        double sink = 0;
        // three untimed passes: the natives load (OpenCV's ~1-2 s) and the JIT compiles, so the timing is the steady state
        for (int rep = 0; rep < 3; rep++) {
            for (int i = 0; i < files.length; i++) {
                sink += folder ? ClipPreprocessor.normalize(pre.decodeResizeAndCrop(files[i], paths[i]).image())[0]
                        : pre.toArray(ImageDecoder.decode(files[i], paths[i]))[0];
            }
        }
        for (int rep = 0; rep < rates.length; rep++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < files.length; i++) {
                if (folder) {
                    sink += ClipPreprocessor.normalize(pre.decodeResizeAndCrop(files[i], paths[i]).image())[0];
                    continue;
                }
                var img = ImageDecoder.decode(files[i], paths[i]);
                sink += decodeOnly ? img.samples()[0] : pre.toArray(img)[0];
            }
            rates[rep] = files.length / ((System.nanoTime() - t0) / 1e9);
        }
        Arrays.sort(rates);
        System.out.printf("{\"peer\": \"clip4j %s (%s)\", \"images\": %d, \"images_per_sec_median\": %.1f, \"images_per_sec_best\": %.1f, \"checksum\": %.1f}%n",
                decodeOnly ? "decode" : folder ? "preprocess, photo-folder path" : "preprocess", System.getProperty("clip4j.imageDecoder", "auto"), files.length,
                (rates[4] + rates[5]) / 2, rates[9], sink);
    }
}
