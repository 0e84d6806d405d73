package dev.clip4j.checkpoint;

import org.bytedeco.pytorch.Tensor;

import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads the weights of a TorchScript archive ({@code torch.jit.save}, e.g. OpenAI's released {@code ViT-B-32.pt})
 * without executing it. {@code torch::jit::load} would run the archive's {@code __setstate__} methods, which can
 * create or overwrite files through {@code torch.from_file(path, shared=True)} (pitfall 9, docs/BINDINGS.md); here
 * {@code data.pkl} is unpickled by the allow-listed {@link SafeUnpickler}, the module tree is walked as plain
 * attribute containers, and every tensor attribute is collected under its dotted state-dict name. The archive's
 * {@code code/} and {@code constants.pkl} are never read.
 */
public final class TorchScriptReader {
    private static final int MAX_DEPTH = 64;

    private TorchScriptReader() {}

    /** Every tensor attribute (parameters and buffers) of the archive's module tree, by dotted name, read whole. */
    public static Map<String, Tensor> namedTensors(Path file) {
        try (TorchArchive archive = TorchArchive.open(file)) {
            return StoredTensor.readAll(storedTensors(archive));
        }
    }

    /**
     * As {@link #namedTensors}, each tensor read only when wanted ({@link SafeUnpickler.DeferredTensor}: its record
     * checked now, its values read from {@code archive}, which must stay open until then).
     */
    static Map<String, StoredTensor> storedTensors(TorchArchive archive) {
        if (!archive.torchScript) throw new CheckpointException(archive.file + ": not a TorchScript archive");
        Object root = new SafeUnpickler(archive, "data").load("data.pkl");
        if (!(root instanceof SafeUnpickler.ScriptObject module)) {
            throw new CheckpointException(archive.file + ": the archive's data.pkl holds no TorchScript module");
        }
        Map<String, StoredTensor> out = new TreeMap<>();
        collect(archive.file, module, "", out, new IdentityHashMap<>(), 0);
        if (out.isEmpty()) throw new CheckpointException(archive.file + ": the TorchScript module holds no tensors");
        return out;
    }

    private static void collect(Path file, SafeUnpickler.ScriptObject module, String prefix, Map<String, StoredTensor> out,
                                IdentityHashMap<Object, Boolean> seen, int depth) {
        if (depth > MAX_DEPTH) throw new CheckpointException(file + ": module tree deeper than " + MAX_DEPTH + " at '" + prefix + "'");
        if (seen.put(module, Boolean.TRUE) != null) return; // a submodule shared under two names: its first name
        for (Map.Entry<?, ?> e : module.attributes.entrySet()) {
            if (!(e.getKey() instanceof String name)) continue;
            Object v = e.getValue();
            if (v instanceof SafeUnpickler.DeferredTensor t) out.put(prefix + name, t.stored());
            else if (v instanceof SafeUnpickler.ScriptObject child) collect(file, child, prefix + name + ".", out, seen, depth + 1);
        }
    }
}
