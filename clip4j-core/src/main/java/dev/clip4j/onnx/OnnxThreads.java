package dev.clip4j.onnx;

/**
 * How ONNX Runtime's sessions use the model's cores (as many threads as libtorch's, T). bench/RESULTS.md has the
 * measurements, all on an AMX Xeon with T = 2.
 */
public enum OnnxThreads {
    /**
     * T threads on every operator, the idle ones spinning between operators (ONNX Runtime's own default): the lowest
     * latency for one input at a time (queries, a single image). Sleeping threads, woken for every operator, cost a
     * ViT-B/32 image tower at batch 1 6–12 % in float32 and 30–51 % in int8.
     */
    SPIN,
    /**
     * T threads on every operator, the idle ones sleeping: for a service under many concurrent queries
     * ({@code serve --onnx-threads sleep}), whose request threads then get the cores (int8 text queries' p99 39–44 →
     * 30–33 ms at eight clients, for 7–12 % of the throughput).
     */
    SLEEP,
    /**
     * One thread per run, and each batch of B ≥ 2 inputs split into min(B, T) slices run at once: for throughput on
     * batches (a photo folder, {@code bench} at batch 16). Each core works through its own slice with no barrier
     * between operators, and no thread ever waits idle (none spins against a photo folder's loaders): ViT-B/32 at batch
     * 16 ran 7–16 % faster in float32 and int8 than with T threads on every operator (three alternating rounds). A batch of one input runs on one
     * core, at about half the speed of SPIN. Also for a service under heavy load ({@code serve --onnx-threads slices}),
     * which batches concurrent queries: 32 clients' int8 text queries 1.2× the queries per second of SPIN, at SLEEP's
     * p99, a lone text query about as fast.
     */
    SLICES
}
