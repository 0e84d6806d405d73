package dev.clip4j.adapt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.clip4j.InputException;
import dev.clip4j.checkpoint.Safetensors;
import dev.clip4j.data.DataFiles;
import dev.clip4j.io.AtomicFiles;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An adapter on disk: a directory with {@code adapter.json} (method, settings, class names, the CLIP model it adapts
 * by path and content hash, how it was trained) and {@code adapter.safetensors} (its learned or cached tensors). CLIP's
 * own weights are never copied. The directory is written under a temporary name and renamed into place, so a
 * reader never sees half an adapter; an existing directory is never overwritten.
 */
public final class AdapterFiles {
    public static final String JSON = "adapter.json", TENSORS = "adapter.safetensors", FORMAT = "clip4j-adapter";
    public static final int VERSION = 1;
    /** adapter.json larger than this is not one of ours (class names and settings are small). */
    static final long MAX_JSON_BYTES = 64L << 20;
    static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private AdapterFiles() {}

    /** What {@code adapter.json} holds. */
    public record Meta(String method, List<String> classes, String modelPath, String modelSha256,
                       Map<String, Object> settings, Map<String, Object> training) {}

    public static void save(Path dir, Meta meta, Map<String, Tensor> tensors) throws IOException {
        if (Files.exists(dir)) throw new InputException(dir + " already exists; adapters are never overwritten (choose another --out)");
        Path parent = dir.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempDirectory(parent, "." + dir.getFileName() + ".");
        boolean moved = false;
        try {
            Map<String, Tensor> detached = new LinkedHashMap<>();
            tensors.forEach((k, v) -> detached.put(k, v.detach().contiguous()));
            Safetensors.write(tmp.resolve(TENSORS), detached, Map.of("producer", "clip4j", "method", meta.method()));
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("format", FORMAT);
            json.put("version", VERSION);
            json.put("method", meta.method());
            json.put("classes", meta.classes());
            json.put("model", Map.of("path", meta.modelPath(), "sha256", meta.modelSha256()));
            json.put("settings", meta.settings());
            json.put("training", meta.training());
            AtomicFiles.writeString(tmp.resolve(JSON), MAPPER.writeValueAsString(json) + "\n");
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            moved = true;
        } finally {
            if (!moved) DataFiles.deleteTree(tmp);
        }
    }

    @SuppressWarnings("unchecked")
    public static Meta readMeta(Path dir) {
        Path f = dir.resolve(JSON);
        if (!Files.isRegularFile(f)) throw new InputException(dir + ": not an adapter directory (no " + JSON + ")");
        JsonNode root;
        try {
            if (Files.size(f) > MAX_JSON_BYTES) throw new InputException(f + ": larger than " + (MAX_JSON_BYTES >> 20) + " MB; not an adapter file");
            root = MAPPER.readTree(f.toFile());
        } catch (IOException e) {
            throw new InputException(f + ": not valid JSON: " + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
        }
        if (root == null || !FORMAT.equals(root.path("format").asText())) throw new InputException(f + ": not a clip4j adapter (format)");
        int version = root.path("version").asInt(-1);
        if (version < 1 || version > VERSION) {
            throw new InputException(f + ": adapter format version " + version + "; this clip4j reads version " + VERSION);
        }
        String method = root.path("method").asText("");
        JsonNode classes = root.path("classes");
        if (!classes.isArray() || classes.isEmpty()) throw new InputException(f + ": no class names");
        List<String> names = new java.util.ArrayList<>();
        for (JsonNode c : classes) {
            if (!c.isTextual() || c.asText().isBlank()) throw new InputException(f + ": a class name is not a non-empty string");
            names.add(c.asText());
        }
        String path = root.path("model").path("path").asText(""), sha = root.path("model").path("sha256").asText("");
        if (!sha.matches("[0-9a-f]{64}")) throw new InputException(f + ": model.sha256 is not a SHA-256 hex digest");
        Map<String, Object> settings = root.path("settings").isObject() ? MAPPER.convertValue(root.get("settings"), Map.class) : Map.of();
        Map<String, Object> training = root.path("training").isObject() ? MAPPER.convertValue(root.get("training"), Map.class) : Map.of();
        return new Meta(method, names, path, sha, settings, training);
    }

    public static Map<String, Tensor> readTensors(Path dir) {
        Path f = dir.resolve(TENSORS);
        if (!Files.isRegularFile(f)) throw new InputException(dir + ": adapter without " + TENSORS);
        return Safetensors.read(f);
    }
}
