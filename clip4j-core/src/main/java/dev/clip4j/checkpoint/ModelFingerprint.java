package dev.clip4j.checkpoint;

import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * A content hash of a model's weights: SHA-256 over every state-dict tensor in name order (name, shape, float32
 * bytes). It names the weights, not the file, so the same model in any checkpoint format (or moved) hashes the same,
 * and a different model never does. Adapters record it to refuse being applied to another CLIP.
 */
public final class ModelFingerprint {
    private ModelFingerprint() {}

    public static String of(ClipModel model) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        Map<String, Tensor> sorted = new TreeMap<>(model.stateDict());
        for (Map.Entry<String, Tensor> e : sorted.entrySet()) {
            if (e.getKey().endsWith("num_batches_tracked")) continue; // a counter, not a weight
            sha.update(e.getKey().getBytes(StandardCharsets.UTF_8));
            sha.update(java.util.Arrays.toString(Tensors.shape(e.getValue())).getBytes(StandardCharsets.UTF_8));
            try (Scope s = Scope.open()) {
                Tensor t = e.getValue();
                sha.update(Tensors.toBytes(Tensors.dtype(t).isFloatingPoint() ? Tensors.to(t.detach(), DType.F32).contiguous() : t.contiguous()));
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
