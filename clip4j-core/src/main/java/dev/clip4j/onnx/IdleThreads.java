package dev.clip4j.onnx;

/**
 * What ONNX Runtime's pool threads do between operators. SPIN (ONNX Runtime's own default) where the model has the
 * cores to itself: a thread that sleeps after every operator is woken for the next one, which at batch 1 cost a
 * ViT-B/32 image tower 6–12 % in float32 and 30–51 % in int8 on an AMX Xeon. SLEEP where clip4j's own threads work
 * beside the model on the same cores (a photo folder's loaders decoding the next batches): spinning threads take
 * their time, and int8 {@code embed --images} of 500 photos ran 10.7–11.0 s spinning against 9.9–10.1 s sleeping there
 * (Zen 5: 16.3–16.9 against 17.3–17.4 images/s). Also SLEEP for a service under many concurrent queries
 * ({@code serve --idle-threads sleep}): its request threads then get the cores, and int8 text queries' p99 fell from
 * 39–44 to 30–33 ms at eight clients for 7–12 % of the throughput. bench/RESULTS.md.
 */
public enum IdleThreads {
    SPIN, SLEEP
}
