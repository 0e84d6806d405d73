package dev.clip4j.index;

import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/** An embeddings file's rows by path (the tests of embed --images, spark-embed and the index import). */
public final class EmbeddingRows {
    private EmbeddingRows() {}

    public static Map<String, ImageEmbedding> byPath(Path file) throws java.io.IOException {
        Map<String, ImageEmbedding> rows = new TreeMap<>();
        EmbeddingsFile.forEach(file, r -> rows.put(r.path(), r));
        return rows;
    }
}
