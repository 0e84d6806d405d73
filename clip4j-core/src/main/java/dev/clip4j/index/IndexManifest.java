package dev.clip4j.index;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.clip4j.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code index.json}: what an index directory holds — the model that embedded it (its path and
 * {@link dev.clip4j.checkpoint.ModelFingerprint content hash}, so that a query through another model is refused),
 * the vectors' dimension and precision, and the sources to walk again on update. Written atomically, before the
 * first image is committed, so an interrupted build is recognised and continued. {@code store} says where the vectors
 * are ({@link VectorStores#EMBEDDED}, or an external engine's location).
 */
public record IndexManifest(String modelPath, String modelSha256, int dimension, String precision, List<IndexSource> sources, String store) {
    public static final String FILE = "index.json";
    static final String FORMAT = "clip4j-index/1";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public IndexManifest {
        sources = List.copyOf(sources);
    }

    public static boolean exists(Path dir) {
        return Files.isRegularFile(dir.resolve(FILE));
    }

    public static IndexManifest read(Path dir) {
        Path file = dir.resolve(FILE);
        if (!Files.isDirectory(dir)) throw new IndexException(dir + ": no such index directory");
        if (!Files.isRegularFile(file)) throw new IndexException(dir + ": not a clip4j index (no " + FILE + ")");
        JsonNode n;
        try {
            if (Files.size(file) > (1 << 20)) throw new IndexException(file + ": larger than 1 MB; not an index manifest");
            n = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IndexException(file + ": not valid JSON (a damaged index; build it again)");
        }
        if (n == null || !FORMAT.equals(n.path("format").asText())) {
            throw new IndexException(file + ": not a " + FORMAT + " manifest");
        }
        JsonNode model = n.path("model");
        int dim = n.path("dimension").asInt(-1);
        if (!model.path("path").isTextual() || !model.path("sha256").isTextual() || dim < 1 || !n.path("sources").isArray()) {
            throw new IndexException(file + ": missing model, dimension or sources (a damaged index; build it again)");
        }
        List<IndexSource> sources = new ArrayList<>();
        for (JsonNode s : n.path("sources")) {
            var it = s.fields();
            if (!it.hasNext()) throw new IndexException(file + ": an empty source entry");
            var e = it.next();
            sources.add(new IndexSource(e.getKey(), Path.of(e.getValue().asText())));
        }
        return new IndexManifest(model.get("path").asText(), model.get("sha256").asText(), dim,
                n.path("precision").asText("fp32"), sources, n.path("store").asText(VectorStores.EMBEDDED));
    }

    public void write(Path dir) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("model", Map.of("path", modelPath, "sha256", modelSha256));
        m.put("dimension", dimension);
        m.put("precision", precision);
        m.put("sources", sources.stream().map(IndexSource::toJson).toList());
        m.put("store", store);
        byte[] json = JSON.writeValueAsBytes(m);
        AtomicFiles.write(dir.resolve(FILE), out -> out.write(json));
    }

    /** This manifest with its vectors in {@code location}. */
    public IndexManifest withStore(String location) {
        return new IndexManifest(modelPath, modelSha256, dimension, precision, sources, location);
    }

    /** This manifest with {@code extra} sources added (those already present kept once). */
    public IndexManifest withSources(List<IndexSource> extra) {
        List<IndexSource> all = new ArrayList<>(sources);
        for (IndexSource s : extra) if (!all.contains(s)) all.add(s);
        return new IndexManifest(modelPath, modelSha256, dimension, precision, all, store);
    }
}
