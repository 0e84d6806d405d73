package dev.clip4j.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.clip4j.InputException;
import dev.clip4j.checkpoint.ModelLocator;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code ./clip4j spark-embed}: a folder or Parquet table of images to Parquet embeddings, on Spark (local or a cluster). */
@Command(name = "spark-embed", mixinStandardHelpOptions = true,
        description = "Embed images on Apache Spark: a folder (recursively) or a Parquet table with a 'path' (and optional "
                + "'content' bytes) column to Parquet rows (path, embedding, width, height, size, modified, sha256, error, model).")
public final class SparkEmbedCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Checkpoint, model or run directory (readable by every executor).")
    Path model;

    @Option(names = "--input", required = true, description = "A folder of images, or a Parquet table of paths (and bytes).")
    String input;

    @Option(names = "--output", required = true, description = "The Parquet output (a directory; must not exist).")
    String output;

    @Option(names = "--master", description = "Spark master, e.g. local[2] or spark://host:7077 (default: local[cores], or "
            + "spark-submit's).")
    String master;

    @Option(names = {"--batch-size", "--batch"}, defaultValue = "32", description = "Images per forward pass (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--partitions", defaultValue = "0", description = "Split the input into this many tasks (default: Spark's split).")
    int partitions;

    @Option(names = "--threads", defaultValue = "0", description = "libtorch threads per executor JVM (default: its cores).")
    int threads;

    @Option(names = "--precision", defaultValue = "fp32", description = "fp32 (default) or bf16.")
    String precision;

    @Override
    public Integer call() {
        if (batch < 1 || batch > 4096) throw new InputException("--batch-size must be 1..4096, got " + batch);
        if (partitions < 0 || partitions > 1_000_000) throw new InputException("--partitions must be 0..1000000, got " + partitions);
        if (threads < 0 || threads > 1024) throw new InputException("--threads must be 0..1024, got " + threads);
        dev.clip4j.Precision.parse(precision);
        Path modelPath = ModelLocator.resolve(model).toAbsolutePath().normalize();
        if (!Files.exists(modelPath)) throw new InputException(model + ": no such model");
        if (Files.exists(Path.of(output))) throw new InputException(output + ": already exists; give a new output");
        if (!Files.exists(Path.of(input)) && !input.contains("://")) throw new InputException(input + ": no such folder or Parquet table");
        String m = master != null ? master : System.getProperty("spark.master") != null ? null
                : "local[" + Runtime.getRuntime().availableProcessors() + "]";
        long t0 = System.nanoTime();
        SparkSession spark = Sessions.start(m, threads);
        try {
            double startup = (System.nanoTime() - t0) / 1e9;
            SparkEmbedding.Written w = SparkEmbedding.run(spark, input, output,
                    new SparkEmbedding.Settings(modelPath.toString(), precision, batch, threads), partitions);
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("output", output);
            result.put("rows", w.rows());
            result.put("embedded", w.rows() - w.errors());
            result.put("errors", w.errors());
            result.put("startup_seconds", Math.round(startup * 100) / 100.0);
            result.put("seconds", Math.round((System.nanoTime() - t0) / 1e7) / 100.0);
            System.out.println(new ObjectMapper().writeValueAsString(result));
            return 0;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        } finally {
            spark.stop();
        }
    }
}
