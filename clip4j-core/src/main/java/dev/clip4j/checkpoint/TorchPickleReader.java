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

    /** The unpickled top-level object, with tensors in place of {@code _rebuild_tensor_v2} calls. */
    public static Object read(Path file) {
        try (TorchArchive archive = TorchArchive.open(file)) {
            return new SafeUnpickler(archive, "data").load("data.pkl");
        }
    }

    /** Finds the tensor map inside a loaded checkpoint: the top-level dict, or its {@code state_dict}/{@code model}. */
    public static Map<String, Tensor> stateDict(Path file) {
        return stateDict(file, read(file), v -> v instanceof Tensor t ? t : null);
    }

    /**
     * As {@link #stateDict(Path)}, each tensor read only when wanted ({@link SafeUnpickler.DeferredTensor}: its record
     * checked now, its values read from {@code archive}, which must stay open until then).
     */
    static Map<String, StoredTensor> storedStateDict(TorchArchive archive) {
        Object top = new SafeUnpickler(archive, "data", true).load("data.pkl");
        return stateDict(archive.file, top, v -> v instanceof SafeUnpickler.DeferredTensor d ? d.stored() : null);
    }

    private static <T> Map<String, T> stateDict(Path file, Object top, java.util.function.Function<Object, T> tensor) {
        for (int depth = 0; depth < 2 && top instanceof Map<?, ?> m; depth++) {
            Object inner = m.get("state_dict");
            if (inner == null) inner = m.get("model");
            if (inner instanceof Map<?, ?>) top = inner;
            else break;
        }
        if (!(top instanceof Map<?, ?> map)) throw new CheckpointException(file + ": the pickle holds no state dict");
        Map<String, T> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            T t = tensor.apply(e.getValue());
            if (e.getKey() instanceof String k && t != null) out.put(k.startsWith("module.") ? k.substring(7) : k, t);
        }
        if (out.isEmpty()) throw new CheckpointException(file + ": the pickle holds no tensors");
        return out;
    }
}
