import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.data.Datasets;
import dev.clip4j.data.ImageTextDataset;
import dev.clip4j.eval.FeatureExtractor;
import dev.clip4j.model.ClipModel;
import dev.clip4j.model.FeatureEncoder;
import dev.clip4j.onnx.OnnxClip;
import dev.clip4j.torch.Torch;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * How far int8 features are from fp32's on a trained model (issue 13: cosine ≥ 0.99): every image of a dataset and
 * one caption per image, through the float32 model and its int8 quantization ({@code ClipModel.toInt8}) on libtorch
 * (FBGEMM) or ONNX Runtime (DynamicQuantizeMatMul). Prints one JSON line: min, 1st percentile and median cosine for
 * images and captions.
 *
 * Usage: java -cp "$CP" bench/Int8Agreement.java MODEL DATASET [torch|onnx]   (e.g. runs/quickstart fashion-mnist:test)
 */
public class Int8Agreement {
    public static void main(String[] args) {
        Torch.init();
        Path model = Path.of(args[0]);
        ImageTextDataset data = Datasets.open(args[1]);
        ClipModel fp32 = ClipCheckpoint.loadModel(model).train(false);
        boolean onnx = args.length > 2 && args[2].equals("onnx");
        ClipModel quantized = ClipCheckpoint.loadModel(model).toInt8();
        FeatureEncoder int8 = onnx ? OnnxClip.of(quantized) : quantized;
        float[][] a = FeatureExtractor.images(fp32, data, 256, null), b = FeatureExtractor.images(int8, data, 256, null);
        List<String> captions = new ArrayList<>();
        SplittableRandom rng = new SplittableRandom(0);
        for (int i = 0; i < data.size(); i++) captions.add(data.caption(i, rng));
        float[][] ta = FeatureExtractor.texts(fp32, captions, 256), tb = FeatureExtractor.texts(int8, captions, 256);
        System.out.printf("{\"model\": \"%s\", \"data\": \"%s\", \"int8_backend\": \"%s\", \"images\": %s, \"captions\": %s}%n",
                model, args[1], onnx ? "onnx" : "torch", stats(a, b), stats(ta, tb));
    }

    private static String stats(float[][] a, float[][] b) {
        double[] c = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            double dot = 0;
            for (int k = 0; k < a[i].length; k++) dot += a[i][k] * b[i][k]; // both normalised
            c[i] = dot;
        }
        Arrays.sort(c);
        return String.format("{\"n\": %d, \"min\": %.5f, \"p01\": %.5f, \"median\": %.5f}", c.length, c[0], c[c.length / 100], c[c.length / 2]);
    }
}
