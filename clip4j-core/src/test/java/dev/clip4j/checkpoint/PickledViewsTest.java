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
 * into a storage several tensors share are copies, so no two loaded tensors share memory.
 */
class PickledViewsTest {
    @TempDir
    Path tmp;

    private static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return b.array();
    }

    @Test
    void sharedStoragesAreCopiedAndWholeOnesKept() throws IOException {
        Path f = tmp.resolve("views.pt");
        byte[] pickle = new PickleWriter().op('}')
                .str("whole").floatTensor("1", 2, 0, new long[] {2}, new long[] {1}).op('s')
                .str("a").floatTensor("0", 4, 0, new long[] {4}, new long[] {1}).op('s')
                .str("b").floatTensor("0", 4, 2, new long[] {2}, new long[] {1}).op('s')
                .end();
        PickleWriter.torchSaveZip(f, pickle, Map.of("0", floats(1, 2, 3, 4), "1", floats(5, 6)), false);
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
}
