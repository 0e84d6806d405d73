import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

/**
 * ONNX Runtime's Java API as the JVM peer (issue 13): the ViT-B/32 image tower exported from PyTorch
 * (bench/pytorch_vit.py --export-onnx), all graph optimisations, the given intra-op threads, one inter-op thread.
 * Args: MODEL.onnx BATCH RUNS THREADS. Prints one JSON line like ./clip4j bench (median and best images/s, peak RSS).
 */
public class OrtBench {
    public static void main(String[] args) throws Exception {
        String model = args[0];
        int batch = Integer.parseInt(args[1]), runs = Integer.parseInt(args[2]), threads = Integer.parseInt(args[3]);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        o.setIntraOpNumThreads(threads);
        o.setInterOpNumThreads(1);
        float[] x = new float[batch * 3 * 224 * 224];
        Random rng = new Random(0);
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
        double[] ips = new double[runs];
        try (OrtSession s = env.createSession(model, o);
             OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {batch, 3, 224, 224})) {
            for (int i = 0; i < runs + 2; i++) {
                long t0 = System.nanoTime();
                try (OrtSession.Result r = s.run(Map.of("images", in))) {
                    if (i >= 2) ips[i - 2] = batch / ((System.nanoTime() - t0) / 1e9);
                }
            }
        }
        Arrays.sort(ips);
        long rssKb = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("VmHWM")).map(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElse(0L);
        System.out.printf("{\"peer\": \"onnxruntime %s\", \"arch\": \"ViT-B-32\", \"precision\": \"fp32\", \"batch\": %d, \"threads\": %d, "
                + "\"runs\": %d, \"images_per_sec_median\": %.2f, \"images_per_sec_best\": %.2f, \"peak_rss_mb\": %d}%n",
                env.getVersion(), batch, threads, runs, (ips[(runs - 1) / 2] + ips[runs / 2]) / 2, ips[runs - 1], rssKb / 1024);
    }
}
