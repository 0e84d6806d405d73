package dev.clip4j.checkpoint;

import dev.clip4j.torch.DType;
import org.bytedeco.pytorch.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * A checkpoint tensor before its values are read: shape and dtype from the file's index, the values on demand. A
 * model streamed in one tensor at a time ({@link dev.clip4j.nn.Module#stream}) never holds a checkpoint's whole float
 * weights at once. {@link #get} reads the values into a new tensor the caller owns; each is read once.
 */
public interface StoredTensor extends Supplier<Tensor> {
    long[] shape();

    DType dtype();

    /**
     * Where an open file holds exactly the float32 values {@link #get} gives, as little-endian bytes ({@code bytes} of
     * them from {@code position}); positional reads of the channel may run on any thread while it is open.
     */
    record Region(java.nio.channels.FileChannel channel, long position, long bytes) {}

    /** This tensor's values as they lie in the file, or null where reading them converts or rearranges them. */
    default Region float32Region() {
        return null;
    }

    /** Values that {@code read} produces on demand, of the given shape and dtype. */
    static StoredTensor lazy(long[] shape, DType dtype, Supplier<Tensor> read) {
        return lazy(shape, dtype, read, null);
    }

    /** As {@link #lazy(long[], DType, Supplier)}, the values also lying as they are in {@code region} (or null). */
    static StoredTensor lazy(long[] shape, DType dtype, Supplier<Tensor> read, Region region) {
        return new StoredTensor() {
            @Override
            public Region float32Region() {
                return region;
            }

            @Override
            public long[] shape() {
                return shape.clone();
            }

            @Override
            public DType dtype() {
                return dtype;
            }

            @Override
            public Tensor get() {
                return read.get();
            }
        };
    }

    /** Every tensor of {@code stored} read now, in its order: a checkpoint read whole. */
    static Map<String, Tensor> readAll(Map<String, StoredTensor> stored) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        stored.forEach((name, t) -> out.put(name, t.get()));
        return out;
    }

    /** This tensor transformed when read ({@code f} returns a new tensor; this one's values are closed after). */
    default StoredTensor map(long[] shape, DType dtype, UnaryOperator<Tensor> f) {
        return lazy(shape, dtype, () -> {
            Tensor in = get();
            try {
                return f.apply(in);
            } finally {
                in.close();
            }
        });
    }
}
