package dev.clip4j.spark;

import dev.clip4j.Precision;
import dev.clip4j.index.ImageEmbedder;
import dev.clip4j.index.ImageEmbedding;
import dev.clip4j.torch.Torch;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.Serializable;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Batch embedding as a Spark job: image bytes (from {@code binaryFile} over a folder, or a Parquet table of paths and
 * optionally bytes) go through {@code mapPartitions}, where each executor JVM loads the model once and embeds the
 * partition in batches with clip4j's exact preprocessing ({@link ImageEmbedder}, the same code as
 * {@code ./clip4j embed --images}); the rows ({@link #SCHEMA}) are written as Parquet. Unreadable images get their
 * error in their row instead of failing the job.
 */
public final class SparkEmbedding {
    /** One row per image: what {@link ImageEmbedding} holds. */
    public static final StructType SCHEMA = new StructType()
            .add("path", DataTypes.StringType, false)
            .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), true)
            .add("width", DataTypes.IntegerType, false)
            .add("height", DataTypes.IntegerType, false)
            .add("size", DataTypes.LongType, false)
            .add("modified", DataTypes.LongType, false)
            .add("sha256", DataTypes.StringType, false)
            .add("error", DataTypes.StringType, true)
            .add("model", DataTypes.StringType, false);

    /** Image files a folder input picks up (as the index's folder listing). */
    static final String IMAGE_GLOB = "*.{png,PNG,jpg,JPG,jpeg,JPEG,gif,GIF,bmp,BMP}";

    private SparkEmbedding() {}

    /** What every executor needs: the model (a path every executor can read), precision, batch size, threads. */
    public record Settings(String model, String precision, int batchSize, int threads) implements Serializable {}

    /** The images under {@code input}: a folder (recursively, image files only) or a Parquet table with a {@code path} column. */
    public static Dataset<Row> images(SparkSession spark, String input) {
        Path local = Path.of(input);
        if (Files.isDirectory(local) && !ParquetEmbeddings.isParquet(local)) {
            return spark.read().format("binaryFile").option("recursiveFileLookup", "true").option("pathGlobFilter", IMAGE_GLOB)
                    .load(input).selectExpr("path", "unix_millis(modificationTime) AS modified", "content");
        }
        Dataset<Row> table = spark.read().parquet(input);
        List<String> columns = List.of(table.columns());
        if (!columns.contains("path")) throw new IllegalArgumentException(input + ": a Parquet input needs a 'path' column");
        return table.selectExpr("path", "CAST(0 AS LONG) AS modified", columns.contains("content") ? "content" : "CAST(NULL AS BINARY) AS content");
    }

    /** The embedding rows of {@code images} (columns path, modified, content: null content is read from the path). */
    public static Dataset<Row> embed(Dataset<Row> images, Settings settings) {
        return images.mapPartitions((MapPartitionsFunction<Row, Row>) rows -> new Batches(rows, settings), Encoders.row(SCHEMA));
    }

    /** What a run wrote: its rows, and those with an error instead of an embedding. */
    public record Written(long rows, long errors) {}

    /**
     * {@code images(input)} (repartitioned into {@code partitions} tasks if positive) embedded and written to
     * {@code output}, which must not exist.
     */
    public static Written run(SparkSession spark, String input, String output, Settings settings, int partitions) {
        Dataset<Row> images = images(spark, input);
        if (partitions > 0) images = images.repartition(partitions);
        embed(images, settings).write().mode("errorifexists").parquet(output);
        Row counts = spark.read().parquet(output).selectExpr("count(*)", "count(error)").first();
        return new Written(counts.getLong(0), counts.getLong(1));
    }

    public static Written run(SparkSession spark, String input, String output, Settings settings) {
        return run(spark, input, output, settings, 0);
    }

    /** Each executor JVM's models, loaded once and shared by its tasks. */
    private static final Map<String, ImageEmbedder> MODELS = new ConcurrentHashMap<>();

    static ImageEmbedder model(Settings s) {
        return MODELS.computeIfAbsent(s.model() + "|" + s.precision(), k -> {
            String env = System.getenv("CLIP4J_THREADS");
            int threads = s.threads() > 0 ? s.threads() : env != null && !env.isBlank() ? Integer.parseInt(env.trim()) : 0;
            Torch.setThreads(threads);
            return ImageEmbedder.load(Path.of(s.model()), Precision.parse(s.precision()));
        });
    }

    /** A partition's rows, embedded a batch at a time as the writer pulls them. */
    private static final class Batches implements Iterator<Row> {
        private final Iterator<Row> in;
        private final Settings settings;
        private final ImageEmbedder embedder;
        private Iterator<Row> out = java.util.Collections.emptyIterator();

        Batches(Iterator<Row> in, Settings settings) {
            this.in = in;
            this.settings = settings;
            this.embedder = model(settings);
        }

        @Override
        public boolean hasNext() {
            while (!out.hasNext() && in.hasNext()) out = next(settings.batchSize()).iterator();
            return out.hasNext();
        }

        @Override
        public Row next() {
            if (!hasNext()) throw new NoSuchElementException();
            return out.next();
        }

        private List<Row> next(int n) {
            List<ImageEmbedder.Source> batch = new ArrayList<>(n);
            List<String> unreadable = new ArrayList<>();
            List<Row> rows = new ArrayList<>(n);
            while (batch.size() + unreadable.size() < n && in.hasNext()) {
                Row r = in.next();
                String path = localPath(r.getString(0));
                long modified = r.isNullAt(1) ? 0 : r.getLong(1);
                byte[] bytes = r.isNullAt(2) ? null : (byte[]) r.get(2);
                if (bytes == null) {
                    try {
                        Path p = Path.of(path);
                        bytes = Files.readAllBytes(p);
                        modified = Files.getLastModifiedTime(p).toMillis();
                    } catch (IOException | RuntimeException e) {
                        rows.add(RowFactory.create(path, null, 0, 0, 0L, modified, "", "cannot read: " + e, embedder.fingerprint()));
                        unreadable.add(path);
                        continue;
                    }
                }
                batch.add(new ImageEmbedder.Source(path, bytes, modified));
            }
            for (ImageEmbedding e : embedder.embed(batch)) {
                rows.add(RowFactory.create(e.path(), e.embedding(), e.width(), e.height(), e.size(), e.modified(), e.sha256(),
                        e.error(), e.model()));
            }
            return rows;
        }
    }

    /** {@code file:/a/b.png} (binaryFile's paths) as the local path {@code /a/b.png}; other URIs as they are. */
    static String localPath(String path) {
        if (path.startsWith("file:")) return Path.of(URI.create(path)).toAbsolutePath().normalize().toString();
        return path;
    }
}
