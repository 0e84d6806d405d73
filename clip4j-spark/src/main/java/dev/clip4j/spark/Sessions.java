package dev.clip4j.spark;

import org.apache.spark.sql.SparkSession;

/**
 * Spark sessions as clip4j starts them: no web UI, few shuffle partitions, and each executor's environment carrying the
 * settings libtorch needs (one OpenBLAS thread, glibc's single arena: the ./clip4j launcher's), plus its thread count.
 */
final class Sessions {
    private Sessions() {}

    static SparkSession local(int cores) {
        return start("local[" + cores + "]", 0);
    }

    static SparkSession start(String master, int executorThreads) {
        SparkSession.Builder b = SparkSession.builder().appName("clip4j").config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.executorEnv.OPENBLAS_NUM_THREADS", "1")
                .config("spark.executorEnv.MKL_NUM_THREADS", "1")
                .config("spark.executorEnv.MKL_DYNAMIC", "FALSE")
                .config("spark.executorEnv.MKL_CBWR", "AUTO,STRICT")
                .config("spark.executorEnv.MALLOC_ARENA_MAX", "1")
                .config("spark.executorEnv.MALLOC_MMAP_THRESHOLD_", "33554432")
                .config("spark.executorEnv.MALLOC_TRIM_THRESHOLD_", "1073741824");
        if (executorThreads > 0) b.config("spark.executorEnv.CLIP4J_THREADS", Integer.toString(executorThreads));
        if (master != null) b.master(master);
        return b.getOrCreate();
    }
}
