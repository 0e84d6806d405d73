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

    /** BatchNorm's batch counter: in a state dict, not a weight, so never in a fingerprint. */
    private static boolean counter(String name) {
        return name.endsWith("num_batches_tracked");
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
            if (!named(name, Tensors.shape(value))) return;
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

        /** Hashes a tensor's name and shape before its values; false for a counter, which is not hashed at all. */
        private boolean named(String name, long[] shape) {
            if (counter(name)) return false;
            sha.update(name.getBytes(StandardCharsets.UTF_8));
            sha.update(java.util.Arrays.toString(shape).getBytes(StandardCharsets.UTF_8));
            return true;
        }

        /** As {@link #add} for values that lie as float32 bytes in an open file: read from there, not from memory. */
        void add(String name, long[] shape, StoredTensor.Region region, java.nio.ByteBuffer chunk) throws java.io.IOException {
            if (!named(name, shape)) return;
            for (long at = 0; at < region.bytes(); ) {
                chunk.clear().limit((int) Math.min(chunk.capacity(), region.bytes() - at));
                int n = region.channel().read(chunk, region.position() + at);
                if (n < 0) throw new java.io.EOFException("truncated at byte " + (region.position() + at));
                sha.update(chunk.flip());
                at += n;
            }
        }
    }

    /**
     * The fingerprint of weights that all lie as float32 in an open file (a safetensors checkpoint's), taken on a thread
     * of its own from the file while the caller reads the same tensors into a model: the same digest as {@link Hasher}
     * over the loaded tensors, in the order {@link #add} is called (name order), without the ~0.4 s that SHA-256 takes
     * over a ViT-B/32's 605 MB on the loading thread. {@link #hex} waits for it.
     */
    public static final class FromFile implements AutoCloseable {
        private final Hasher hasher = new Hasher();
        private final java.util.concurrent.ExecutorService thread = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "clip4j-fingerprint");
            t.setDaemon(true);
            return t;
        });
        private final java.nio.ByteBuffer chunk = java.nio.ByteBuffer.allocateDirect(4 << 20);
        private final java.util.List<java.util.concurrent.Future<?>> pending = new java.util.ArrayList<>();

        /**
         * Whether every tensor of {@code weights} that a fingerprint covers lies as float32 in its file (else hash the
         * loaded tensors); BatchNorm's counters ({@code num_batches_tracked}, int64) are not weights.
         */
        public static boolean covers(java.util.Map<String, ? extends StoredTensor> weights) {
            return !weights.isEmpty() && weights.entrySet().stream()
                    .allMatch(w -> counter(w.getKey()) || w.getValue().float32Region() != null);
        }

        /** Queues tensor {@code name}, whose values lie in its file ({@link #covers}); calls come in name order. */
        public void add(String name, StoredTensor stored) {
            long[] shape = stored.shape();
            StoredTensor.Region region = stored.float32Region();
            pending.add(thread.submit(() -> {
                hasher.add(name, shape, region, chunk);
                return null;
            }));
        }

        /** The digest, once every queued tensor is hashed; a read error fails it. */
        public String hex() {
            try {
                for (java.util.concurrent.Future<?> f : pending) f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new dev.clip4j.io.StopSignal.Stopped("interrupt");
            } catch (java.util.concurrent.ExecutionException e) {
                throw new CheckpointException("cannot read the weights for their fingerprint: " + e.getCause().getMessage(), e.getCause());
            }
            return hasher.hex();
        }

        /**
         * Stops the thread once the queued tensors are hashed: the file must stay open until this returns. It is never
         * interrupted, since an interrupted read closes a file channel, the one the loader reads too; an interrupt of
         * the caller is kept for after.
         */
        @Override
        public void close() {
            thread.shutdown();
            boolean interrupted = false;
            while (true) {
                try {
                    if (thread.awaitTermination(1, java.util.concurrent.TimeUnit.SECONDS)) break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
        }
    }
}
