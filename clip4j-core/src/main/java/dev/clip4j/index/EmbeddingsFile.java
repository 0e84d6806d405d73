package dev.clip4j.index;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.clip4j.io.AtomicFiles;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ServiceLoader;
import java.util.function.Consumer;

/**
 * Files of {@link ImageEmbedding} rows: JSON lines here ({@code embed --images DIR [--shard i/n]}), Parquet through a
 * {@link Reader} on the class path (the {@code clip4j-spark} module's, for {@code spark-embed}'s output). One row per
 * image: {@code path, embedding, width, height, size, modified, sha256, error, model}.
 */
public final class EmbeddingsFile {
    private static final ObjectMapper JSON = new ObjectMapper();

    private EmbeddingsFile() {}

    /** Another format's reader, found with {@link ServiceLoader}. */
    public interface Reader {
        boolean accepts(Path file);

        void forEach(Path file, Consumer<ImageEmbedding> row) throws IOException;
    }

    /** Whether {@code file} is JSON lines (by name): anything else needs a {@link Reader}. */
    public static boolean isJsonLines(Path file) {
        String n = file.getFileName().toString();
        return n.endsWith(".jsonl") || n.endsWith(".json") || n.endsWith(".ndjson");
    }

    /** Every row of {@code file}, in order. */
    public static void forEach(Path file, Consumer<ImageEmbedding> row) throws IOException {
        if (!Files.exists(file)) throw new IndexException(file + ": no such embeddings file");
        if (isJsonLines(file)) {
            readJsonLines(file, row);
            return;
        }
        for (Reader r : ServiceLoader.load(Reader.class)) {
            if (r.accepts(file)) {
                r.forEach(file, row);
                return;
            }
        }
        throw new IndexException(file + ": not JSON lines (.jsonl); Parquet embeddings (spark-embed's output) are read by the"
                + " clip4j-spark module, which ./clip4j uses for index build --embeddings");
    }

    private static void readJsonLines(Path file, Consumer<ImageEmbedding> row) throws IOException {
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int n = 0;
            while ((line = in.readLine()) != null) {
                n++;
                if (line.isBlank()) continue;
                JsonNode j;
                try {
                    j = JSON.readTree(line);
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IndexException(file + ":" + n + ": not a JSON object: " + e.getOriginalMessage());
                }
                if (!j.isObject() || !j.path("path").isTextual()) throw new IndexException(file + ":" + n + ": a row needs a \"path\"");
                float[] v = null;
                if (j.path("embedding").isArray()) {
                    v = new float[j.get("embedding").size()];
                    for (int i = 0; i < v.length; i++) {
                        JsonNode x = j.get("embedding").get(i);
                        if (!x.isNumber()) throw new IndexException(file + ":" + n + ": embedding element " + i + " is not a number");
                        v[i] = x.floatValue();
                    }
                }
                row.accept(new ImageEmbedding(j.get("path").asText(), v, j.path("width").asInt(), j.path("height").asInt(),
                        j.path("size").asLong(), j.path("modified").asLong(), j.path("sha256").asText(""),
                        j.path("error").isTextual() ? j.get("error").asText() : null, j.path("model").asText("")));
            }
        }
    }

    /** Writes rows as JSON lines, atomically (a reader never sees half a file). */
    public static void writeJsonLines(Path file, Iterable<ImageEmbedding> rows) throws IOException {
        AtomicFiles.write(file, out -> writeJsonLines(out, rows));
    }

    /** Writes rows as JSON lines to {@code out} (left open). */
    public static void writeJsonLines(OutputStream out, Iterable<ImageEmbedding> rows) throws IOException {
        JsonGenerator g = JSON.getFactory().createGenerator(out);
        g.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
        for (ImageEmbedding r : rows) {
            g.writeStartObject();
            g.writeStringField("path", r.path());
            if (r.embedding() == null) {
                g.writeNullField("embedding");
            } else {
                g.writeArrayFieldStart("embedding");
                for (float f : r.embedding()) g.writeNumber(f);
                g.writeEndArray();
            }
            g.writeNumberField("width", r.width());
            g.writeNumberField("height", r.height());
            g.writeNumberField("size", r.size());
            g.writeNumberField("modified", r.modified());
            g.writeStringField("sha256", r.sha256());
            if (r.error() == null) g.writeNullField("error");
            else g.writeStringField("error", r.error());
            g.writeStringField("model", r.model());
            g.writeEndObject();
            g.writeRaw('\n');
        }
        g.flush();
    }
}
