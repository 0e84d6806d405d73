package dev.clip4j.dist;

import dev.clip4j.torch.ProcessGroup;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Runs N ranks of a process group as threads of this JVM, over Gloo on 127.0.0.1 (what the tests need of a cluster). */
final class Ranks {
    private Ranks() {}

    @FunctionalInterface
    interface Body<T> {
        T run(DataParallel dp) throws Exception;
    }

    /** Each rank's result, in rank order; a rank's failure fails the call. */
    static <T> List<T> run(int world, Body<T> body) throws Exception {
        int port = freePort();
        ExecutorService pool = Executors.newFixedThreadPool(world);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                int rank = r;
                futures.add(pool.submit(() -> {
                    try (DataParallel dp = new DataParallel(ProcessGroup.join("127.0.0.1", port, rank, world, "127.0.0.1",
                            Duration.ofSeconds(60)))) {
                        return body.run(dp);
                    }
                }));
            }
            List<T> out = new ArrayList<>();
            for (Future<T> f : futures) out.add(f.get(5, TimeUnit.MINUTES));
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
