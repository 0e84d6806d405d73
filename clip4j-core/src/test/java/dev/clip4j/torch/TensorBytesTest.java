package dev.clip4j.torch;

import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link Tensors#forEachBytes}: the bytes where they lie are the bytes {@link Tensors#toBytes} copies, in order. */
class TensorBytesTest {
    @Test
    void chunksInPlaceAreTheCopiedBytes() {
        for (long[] shape : new long[][] {{0}, {1}, {3, 5}, {257, 129}}) {
            Tensor t = Tensors.randn(shape);
            ByteArrayOutputStream seen = new ByteArrayOutputStream();
            Tensors.forEachBytes(t, b -> {
                byte[] chunk = new byte[b.remaining()];
                b.get(chunk);
                seen.writeBytes(chunk);
            });
            assertThat(seen.toByteArray()).isEqualTo(Tensors.toBytes(t));
        }
    }
}
