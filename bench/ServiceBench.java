import dev.clip4j.Backend;
import dev.clip4j.Precision;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.index.ImageIndex;
import dev.clip4j.index.IndexProgress;
import dev.clip4j.index.IndexSource;
import dev.clip4j.model.ClipConfig;
import dev.clip4j.model.ClipModel;
import dev.clip4j.onnx.OnnxThreads;
import dev.clip4j.serve.SearchService;
import dev.clip4j.torch.Torch;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The service under load (issue 12): ARCH with random weights (saved once under DIR), an index of IMAGES, then for
 * each client count C in CLIENTS, C clients send distinct text queries to GET /api/search for SECONDS: queries/s,
 * p50/p99 latency, errors. One JSON line per client count. PRECISION (default fp32) is the index's, which the
 * service's queries run at; BACKEND (torch, the default, or onnx) runs them, and on onnx IDLE (spin, the default,
 * sleep or slices, as serve --onnx-threads) is how ONNX Runtime uses the cores (OnnxThreads).
 *   java -cp "clip4j-cli/target/clip4j-cli.jar:$(ls clip4j-cli/target/lib/*.jar | tr '\n' :)" bench/ServiceBench.java ARCH IMAGES DIR SECONDS THREADS 1,8,32 [PRECISION [BACKEND [IDLE]]]
 */
public class ServiceBench {
    public static void main(String[] a) throws Exception {
        String arch = a[0];
        Path images = Path.of(a[1]), dir = Path.of(a[2]);
        int seconds = Integer.parseInt(a[3]), threads = Integer.parseInt(a[4]);
        Precision precision = a.length > 6 ? Precision.explicit(a[6]) : Precision.FP32;
        Backend.use(a.length > 7 ? Backend.parse(a[7]) : Backend.TORCH);
        OnnxThreads idle = a.length > 8 ? OnnxThreads.valueOf(a[8].toUpperCase(java.util.Locale.ROOT)) : OnnxThreads.SPIN;
        Torch.setThreads(threads);
        Path model = dir.resolve("model-" + arch);
        if (!Files.exists(model)) {
            Torch.manualSeed(0);
            ClipCheckpoint.save(ClipModel.create(ClipConfig.builtIn(arch)), model);
        }
        Path idx = dir.resolve("index-" + arch + "-" + precision);
        ImageIndex.build(model, IndexSource.of(images), idx, precision, 16, IndexProgress.NONE).close();
        try (ImageIndex index = ImageIndex.open(idx, null, idle);
             SearchService service = SearchService.start(index, "127.0.0.1", 0)) {
            String base = "http://127.0.0.1:" + service.port() + "/api/search?k=10&q=";
            for (String c : a[5].split(",")) run(base, Integer.parseInt(c), seconds, arch, precision, index.size(), idle);
        }
    }

    static void run(String base, int clients, int seconds, String arch, Precision precision, long images, OnnxThreads idle) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        for (int i = 0; i < 10; i++) http.send(HttpRequest.newBuilder(URI.create(base + "warm+" + i)).build(), HttpResponse.BodyHandlers.discarding());
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        List<Future<double[]>> fs = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            int id = c;
            fs.add(pool.submit(() -> {
                HttpClient h = HttpClient.newHttpClient();
                List<Double> ms = new ArrayList<>();
                int errors = 0;
                for (int n = 0; System.nanoTime() < end; n++) {
                    String q = URLEncoder.encode("a photo of thing " + id + " number " + n, StandardCharsets.UTF_8);
                    long s = System.nanoTime();
                    int status = h.send(HttpRequest.newBuilder(URI.create(base + q)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
                    if (status != 200) errors++;
                    ms.add((System.nanoTime() - s) / 1e6);
                }
                double[] out = new double[ms.size() + 1];
                out[0] = errors;
                for (int i = 0; i < ms.size(); i++) out[i + 1] = ms.get(i);
                return out;
            }));
        }
        List<Double> all = new ArrayList<>();
        int errors = 0;
        for (Future<double[]> f : fs) {
            double[] r = f.get();
            errors += (int) r[0];
            for (int i = 1; i < r.length; i++) all.add(r[i]);
        }
        pool.shutdown();
        double[] s = all.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(s);
        System.out.printf("{\"arch\": \"%s\", \"precision\": \"%s\", \"backend\": \"%s\", \"idle\": \"%s\", \"images\": %d, \"clients\": %d, \"seconds\": %d, \"queries\": %d, \"qps\": %.1f, \"p50_ms\": %.1f,"
                        + " \"p99_ms\": %.1f, \"errors\": %d}%n", arch, precision, Backend.current(), idle, images, clients, seconds, s.length, s.length / (double) seconds,
                s[s.length / 2], s[(int) Math.floor(0.99 * (s.length - 1))], errors);
    }
}
