package dev.clip4j.checkpoint;

import org.bytedeco.pytorch.Tensor;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads {@code torch.save} zip archives (open_clip {@code .pt}, Hugging Face {@code pytorch_model.bin}) through the
 * allow-listed {@link SafeUnpickler}, so a checkpoint can never run code.
 */
public final class TorchPickleReader {
    private TorchPickleReader() {}

    /** Whether the file is a {@code torch.save} zip (has {@code data.pkl} and no TorchScript {@code code/}). */
    public static boolean isTorchSaveZip(Path file) {
        return Boolean.FALSE.equals(TorchArchive.kind(file));
    }

    /** Whether the file is a TorchScript zip ({@code torch.jit.save}: {@code data.pkl} beside {@code code/}). */
    public static boolean isTorchScriptZip(Path file) {
        return Boolean.TRUE.equals(TorchArchive.kind(file));
    }

    /** Finds the tensor map inside a checkpoint (the top-level dict, or its {@code state_dict}/{@code model}), read whole. */
    public static Map<String, Tensor> stateDict(Path file) {
        try (TorchArchive archive = TorchArchive.open(file)) {
            return StoredTensor.readAll(storedStateDict(archive));
        }
    }

    /**
     * As {@link #stateDict(Path)}, each tensor read only when wanted ({@link SafeUnpickler.DeferredTensor}: its record
     * checked now, its values read from {@code archive}, which must stay open until then).
     */
    static Map<String, StoredTensor> storedStateDict(TorchArchive archive) {
        Object top = new SafeUnpickler(archive, "data").load("data.pkl");
        for (int depth = 0; depth < 2 && top instanceof Map<?, ?> m; depth++) {
            Object inner = m.get("state_dict");
            if (inner == null) inner = m.get("model");
            if (inner instanceof Map<?, ?>) top = inner;
            else break;
        }
        if (!(top instanceof Map<?, ?> map)) throw new CheckpointException(archive.file + ": the pickle holds no state dict");
        Map<String, StoredTensor> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (e.getKey() instanceof String k && e.getValue() instanceof SafeUnpickler.DeferredTensor t) {
                out.put(k.startsWith("module.") ? k.substring(7) : k, t.stored());
            }
        }
        if (out.isEmpty()) throw new CheckpointException(archive.file + ": the pickle holds no tensors");
        return out;
    }
}
