package dev.clip4j.spark;

import java.util.Map;

/**
 * The clip4j command line with the Spark commands: {@code spark-embed}, and {@code index build --embeddings} able to
 * read Parquet ({@link ParquetEmbeddings}, found by the core through {@link java.util.ServiceLoader}). {@code ./clip4j}
 * runs this main, on this module's class path, for those commands.
 */
public final class SparkMain {
    private SparkMain() {}

    public static void main(String[] args) {
        dev.clip4j.cli.Main.mainWith(Map.of("spark-embed", new SparkEmbedCommand()), args);
    }
}
