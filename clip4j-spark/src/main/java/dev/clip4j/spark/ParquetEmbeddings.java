package dev.clip4j.spark;

import dev.clip4j.index.EmbeddingsFile;
import dev.clip4j.index.ImageEmbedding;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.function.Consumer;

/** Reads {@code spark-embed}'s Parquet for {@code index build --embeddings} (a local Spark session, streaming the rows). */
public final class ParquetEmbeddings implements EmbeddingsFile.Reader {
    /** A Parquet file, or the directory Spark writes one dataset as. */
    static boolean isParquet(Path p) {
        if (p.getFileName() != null && p.getFileName().toString().endsWith(".parquet")) return true;
        if (!Files.isDirectory(p)) return false;
        try (var s = Files.list(p)) {
            return s.anyMatch(f -> f.getFileName().toString().endsWith(".parquet") || f.getFileName().toString().equals("_SUCCESS"));
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Override
    public boolean accepts(Path file) {
        return isParquet(file);
    }

    @Override
    public void forEach(Path file, Consumer<ImageEmbedding> row) {
        SparkSession spark = Sessions.local(1);
        Iterator<Row> it = spark.read().parquet(file.toString()).toLocalIterator();
        while (it.hasNext()) {
            Row r = it.next();
            float[] v = null;
            if (!r.isNullAt(r.fieldIndex("embedding"))) {
                scala.collection.Seq<Object> seq = r.getSeq(r.fieldIndex("embedding"));
                v = new float[seq.size()];
                for (int i = 0; i < v.length; i++) v[i] = (Float) seq.apply(i);
            }
            row.accept(new ImageEmbedding(r.getAs("path"), v, r.<Integer>getAs("width"), r.<Integer>getAs("height"),
                    r.<Long>getAs("size"), r.<Long>getAs("modified"), r.getAs("sha256"), r.getAs("error"), r.getAs("model")));
        }
    }
}
