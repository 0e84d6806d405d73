package dev.clip4j.cli;

import dev.clip4j.Precision;
import dev.clip4j.model.ClipConfig;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import dev.clip4j.torch.Torch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "bench", description = "Image-tower inference speed with random weights (or a checkpoint's), as one JSON line.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--arch", defaultValue = "ViT-B-32", description = "Architecture (default ${DEFAULT-VALUE}).")
    String arch;

    @Option(names = "--model", description = "A checkpoint to run instead of random weights of --arch: its image tower only is "
            + "read (int8 quantized layer by layer as it loads), so peak_rss_mb is what embedding images with it costs.")
    java.nio.file.Path checkpoint;

    @Option(names = {"--batch-size", "--batch"}, defaultValue = "16", description = "Images per forward (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--runs", defaultValue = "10", description = "Timed runs after 2 warm-up runs (default ${DEFAULT-VALUE}).")
    int runs;

    @Mixin
    CommonOptions.Threads threads;

    @Option(names = "--precision", defaultValue = "fp32", description = "fp32 (default), bf16 or int8.")
    String precision;

    @picocli.CommandLine.Mixin
    CommonOptions.InferenceBackend backend;

    @Override
    public Integer call() {
        Options.batchSize(batch);
        if (runs < 1 || runs > 100000) throw new UserError("--runs must be 1 to 100000, got " + runs);
        threads.apply();
        backend.apply();
        Precision p = Precision.parse(precision); // after both: auto probes on these threads, against this backend
        Torch.manualSeed(0);
        // a checkpoint streams in (int8 quantized as it loads); random weights make the whole float model first, so
        // their peak RSS is not a checkpoint load's
        ClipModel model = checkpoint != null
                ? dev.clip4j.checkpoint.ClipCheckpoint.loadForInference(checkpoint, p == Precision.INT8, false, dev.clip4j.model.Towers.IMAGE).model()
                : ClipModel.create(ClipConfig.builtIn(arch));
        if (p == Precision.BF16) model.toBf16();
        if (p == Precision.INT8 && !model.isInt8()) model.toInt8();
        dev.clip4j.Backend b = dev.clip4j.Backend.current().resolve(model, p);
        // handed over: the model is this command's alone, so the session keeps the only copy of the weights; a batch
        // runs in slices, one per thread, as a photo folder's do; one image on every thread, as a query does
        dev.clip4j.onnx.OnnxThreads use = batch > 1 ? dev.clip4j.onnx.OnnxThreads.SLICES : dev.clip4j.onnx.OnnxThreads.SPIN;
        dev.clip4j.onnx.OnnxClip onnx = b == dev.clip4j.Backend.ONNX ? dev.clip4j.onnx.OnnxClip.handOver(model, use) : null;
        int r = model.imageResolution();
        double[] ips = new double[runs];
        try (Scope s = Scope.open()) {
            var images = Tensors.randn(batch, 3, r, r);
            for (int i = 0; i < runs + 2; i++) {
                try (Scope step = Scope.open()) {
                    long t0 = System.nanoTime();
                    Grad.noGrad(() -> (onnx != null ? onnx.encodeImage(images) : model.encodeImage(images)).contiguous());
                    double sec = (System.nanoTime() - t0) / 1e9;
                    if (i >= 2) ips[i - 2] = batch / sec;
                }
            }
        }
        double[] sorted = ips.clone();
        Arrays.sort(sorted);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("arch", checkpoint != null ? model.config().name() : arch);
        if (checkpoint != null) out.put("model", checkpoint.toString());
        out.put("precision", p.name().toLowerCase());
        out.put("backend", b.name().toLowerCase());
        out.put("batch", batch);
        out.put("threads", Torch.threads());
        if (b != dev.clip4j.Backend.ONNX) out.put("blas", Torch.blas().name().toLowerCase()); // libtorch's float32 GEMMs
        out.put("runs", runs);
        out.put("images_per_sec_median", round(median(sorted)));
        out.put("images_per_sec_best", round(sorted[sorted.length - 1]));
        out.put("peak_rss_mb", dev.clip4j.io.ProcessMemory.peakRssMb());
        System.out.println(Json.write(out));
        return 0;
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
