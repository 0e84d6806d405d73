package dev.clip4j.checkpoint;

import dev.clip4j.hostile.PickleWriter;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * torch.save archives: a tensor that is a whole storage used once keeps that storage (no copy while loading); views
 * into a storage several tensors share are copies, so no two loaded tensors share memory. Read deferred (the streamed
 * load), each tensor is read from the archive only when taken, with the same checks made when it is opened.
 */
class PickledViewsTest {
    @TempDir
    Path tmp;

    private static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return b.array();
    }

    /** "whole": all of storage 1 ({@code whole}'s bytes); "a": all of storage 0 (1, 2, 3, 4); "b": its last two. */
    private Path viewsArchive(byte[] whole) throws IOException {
        Path f = tmp.resolve("views.pt");
        byte[] pickle = new PickleWriter().op('}')
                .str("whole").floatTensor("1", 2, 0, new long[] {2}, new long[] {1}).op('s')
                .str("a").floatTensor("0", 4, 0, new long[] {4}, new long[] {1}).op('s')
                .str("b").floatTensor("0", 4, 2, new long[] {2}, new long[] {1}).op('s')
                .end();
        PickleWriter.torchSaveZip(f, pickle, Map.of("0", floats(1, 2, 3, 4), "1", whole), false);
        return f;
    }

    @Test
    void sharedStoragesAreCopiedAndWholeOnesKept() throws IOException {
        Path f = viewsArchive(floats(5, 6));
        Map<String, Tensor> sd = TorchPickleReader.stateDict(f);
        assertThat(Tensors.toFloats(sd.get("whole"))).containsExactly(5, 6);
        assertThat(Tensors.toFloats(sd.get("a"))).containsExactly(1, 2, 3, 4);
        assertThat(Tensors.toFloats(sd.get("b"))).containsExactly(3, 4);
        assertThat(Tensors.ownsItsStorage(sd.get("whole"))).isTrue();
        assertThat(Tensors.ownsItsStorage(sd.get("a"))).isTrue();
        assertThat(Tensors.ownsItsStorage(sd.get("b"))).isTrue();
        sd.get("a").fill_(new org.bytedeco.pytorch.Scalar(0.0));
        assertThat(Tensors.toFloats(sd.get("b"))).as("b is not a view into a").containsExactly(3, 4);
    }

    /**
     * Deferred, the records are checked when the archive is opened and read when a tensor is taken: bytes changed in
     * place after opening are what the tensor gets (nothing was read before), and shared storages still come apart.
     */
    @Test
    void deferredTensorsAreReadWhenTakenWithTheSameValues() throws IOException {
        byte[] whole = floats(5.25f, 6.75f);
        Path f = viewsArchive(whole);
        try (TorchArchive archive = TorchArchive.open(f)) {
            Map<String, StoredTensor> sd = TorchPickleReader.storedStateDict(archive);
            assertThat(sd.get("b").shape()).containsExactly(2);
            // the record "1" is stored as it is: change its bytes in the file after the archive was opened
            byte[] file = java.nio.file.Files.readAllBytes(f);
            int at = indexOf(file, whole);
            assertThat(at).isPositive();
            try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(f.toFile(), "rw")) {
                raf.seek(at);
                raf.write(floats(7.5f, 8.5f));
            }
            assertThat(Tensors.toFloats(sd.get("whole").get())).containsExactly(7.5f, 8.5f);
            Tensor a = sd.get("a").get(), b = sd.get("b").get();
            assertThat(Tensors.toFloats(a)).containsExactly(1, 2, 3, 4);
            assertThat(Tensors.toFloats(b)).containsExactly(3, 4);
            assertThat(Tensors.ownsItsStorage(b)).isTrue();
            a.fill_(new org.bytedeco.pytorch.Scalar(0.0));
            assertThat(Tensors.toFloats(b)).as("b is not a view into a").containsExactly(3, 4);
        }
    }

    /**
     * Deferred, a record shorter than its storage declares is refused when the archive is opened, before any read
     * (views that multiply a storage: {@code HostileCheckpointTest.viewsRepeatingAStorageAreRefusedBeforeCopying}).
     */
    @Test
    void deferredRecordsAreCheckedWhenOpened() throws IOException {
        Path lying = tmp.resolve("lying.pt");
        PickleWriter.torchSaveZip(lying, new PickleWriter().op('}').str("w")
                .floatTensor("0", 1000, 0, new long[] {1000}, new long[] {1}).op('s').end(), Map.of("0", new byte[16]), false);
        try (TorchArchive archive = TorchArchive.open(lying)) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> TorchPickleReader.storedStateDict(archive))
                    .isInstanceOf(CheckpointException.class).hasMessageContaining("declares 4000 bytes but the record holds 16");
        }
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) if (haystack[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }
}
