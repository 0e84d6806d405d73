package dev.clip4j.cli;

import dev.clip4j.index.ImageIndex;
import dev.clip4j.onnx.OnnxThreads;
import dev.clip4j.serve.SearchService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "serve", description = "Serve an index over HTTP: a JSON API (/api/search, /api/embed, /api/rank, /api/thumbnail,"
        + " /api/health, /api/stats) and a search page at /.")
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--index", required = true, description = "The index directory (index build).")
    Path index;

    @Option(names = "--port", defaultValue = "8080", description = "TCP port (default ${DEFAULT-VALUE}; 0 picks a free one).")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1",
            description = "Address to bind (default ${DEFAULT-VALUE}: this machine only; 0.0.0.0 for every interface).")
    String host;

    @Option(names = "--model", description = "The model, if it moved since the build (it must be the same weights).")
    Path model;

    @Option(names = "--onnx-threads", defaultValue = "spin",
            description = "How ONNX Runtime uses the cores: spin (default: every thread on each batch of queries, idle ones spinning;"
                    + " the lowest latency one query at a time), sleep (idle ones sleeping: a lower p99 under many concurrent queries) or"
                    + " slices (the concurrent queries' batch split across the cores, one thread each: the most queries per second under"
                    + " heavy load; a lone query runs on one core).")
    String onnxThreads;

    @Mixin
    CommonOptions.Threads threads;

    @Mixin
    CommonOptions.InferenceBackend backend;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) throw new UserError("--port must be 0 to 65535, got " + port);
        OnnxThreads use = switch (onnxThreads) {
            case "spin" -> OnnxThreads.SPIN;
            case "sleep" -> OnnxThreads.SLEEP;
            case "slices" -> OnnxThreads.SLICES;
            default -> throw new UserError("--onnx-threads must be spin, sleep or slices, got '" + onnxThreads + "'");
        };
        threads.apply();
        backend.apply();
        try (ImageIndex idx = ImageIndex.open(index, model, use); SearchService service = SearchService.start(idx, host, port)) {
            System.out.printf("serving %s (%d images) on http://%s:%d/  (Ctrl-C stops)%n", idx.directory(), idx.size(),
                    host.contains(":") ? "[" + host + "]" : host, service.port());
            System.out.flush();
            while (!dev.clip4j.io.StopSignal.requested()) Thread.sleep(200);
            System.out.println("stopping");
        }
        return 0;
    }
}
