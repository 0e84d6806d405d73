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
import java.util.TreeMap;

/**
 * A content hash of a model's weights: SHA-256 over every state-dict tensor in name order (name, shape, float32
 * bytes). It names the weights, not the file, so the same model in any checkpoint format (or moved) hashes the same,
 * and a different model never does. Adapters record it to refuse being applied to another CLIP.
 */
public final class ModelFingerprint {
    private ModelFingerprint() {}

    public static String of(ClipModel model) {
        model.requireAllWeights(); // a hash of some of the weights would name no model
        Hasher h = new Hasher();
        new TreeMap<>(model.stateDict()).forEach(h::add);
        return h.hex();
    }

    /**
     * The fingerprint taken one tensor at a time, as a model is streamed in ({@link dev.clip4j.nn.Module#stream}):
     * tensors must be added in name order (a {@link TreeMap}'s), as {@link #of} does.
     */
    public static final class Hasher {
        private final MessageDigest sha;

        public Hasher() {
            try {
                sha = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        public void add(String name, Tensor value) {
            if (name.endsWith("num_batches_tracked")) return; // a counter, not a weight
            sha.update(name.getBytes(StandardCharsets.UTF_8));
            sha.update(java.util.Arrays.toString(Tensors.shape(value)).getBytes(StandardCharsets.UTF_8));
            try (Scope s = Scope.open()) {
                Tensor t = Tensors.dtype(value).isFloatingPoint() ? Tensors.to(value.detach(), DType.F32).contiguous() : value.contiguous();
                // hashed where it lies, not copied to the Java heap: a ViT-B/32 would leave ~600 MB of garbage arrays
                // that the heap keeps resident long after the hash is done
                Tensors.forEachBytes(t, sha::update);
            }
        }

        public String hex() {
            return HexFormat.of().formatHex(sha.digest());
        }
    }
}
