package dev.clip4j.io;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The pool that reads, decodes and resizes images ahead of the model (index build, {@code embed --images}): one daemon
 * thread per core. With a fast model (bf16, int8) decoding large photos is the bottleneck and every core helps; with
 * a slow one the loaders wait on the caller's bounded window.
 */
public final class LoaderThreads {
    private LoaderThreads() {}

    /** How many loaders {@link #start} makes: one per core the JVM sees. */
    public static int count() {
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /** A fixed pool of {@link #count()} daemon threads named {@code name}; the caller shuts it down. */
    public static ExecutorService start(String name) {
        return Executors.newFixedThreadPool(count(), r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }
}
