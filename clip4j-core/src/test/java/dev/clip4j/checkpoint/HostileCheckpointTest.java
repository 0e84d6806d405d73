package dev.clip4j.checkpoint;

import dev.clip4j.Fixtures;
import dev.clip4j.hostile.ChildJvm;
import dev.clip4j.hostile.CraftedTorchScript;
import dev.clip4j.hostile.HostileCases;
import dev.clip4j.hostile.LoadProbe;
import dev.clip4j.hostile.PickleWriter;
import dev.clip4j.model.ClipModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Crafted checkpoints: nothing runs, nothing unbounded is allocated, every refusal names the file and the fault. */
class HostileCheckpointTest {
    @TempDir
    Path tmp;

    @Test
    void torchScriptSetstateNeverRuns() throws IOException {
        Path target = tmp.resolve("victim.sh");
        Path evil = tmp.resolve("ViT-B-32.pt");
        CraftedTorchScript.write(Fixtures.path("vit/model_jit.pt"), evil, target);
        assertThat(ClipCheckpoint.detect(evil)).isEqualTo(CheckpointFormat.TORCHSCRIPT);
        // Weights only: the archive loads as the CLIP model it carries, and its __setstate__ never runs.
        ClipModel model = ClipCheckpoint.loadModel(evil);
        assertThat(target).doesNotExist();
        ClipCheckpointTest.assertReproducesOutputs(model, "vit");
        // The same with a file already there: it is not touched.
        Files.writeString(target, "echo hello\n");
        ClipCheckpoint.loadModel(evil);
        assertThat(Files.readString(target)).isEqualTo("echo hello\n");
    }

    @Test
    void instOpcodeCannotNameAGlobal() throws IOException {
        Path f = tmp.resolve("inst.pt");
        HostileCases.instPickle(f);
        assertThatThrownBy(() -> ClipCheckpoint.loadModel(f)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("inst.pt").hasMessageContaining("'os.system'");
    }

    @Test
    void storageLargerThanItsRecordIsRefusedBeforeAllocating() throws IOException {
        Path f = tmp.resolve("big.pt");
        HostileCases.storageLargerThanFile(f);
        assertThatThrownBy(() -> ClipCheckpoint.loadModel(f)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("big.pt").hasMessageContaining("archive/data/0").hasMessageContaining("declares 1600000000 bytes");
    }

    @Test
    void viewOutsideItsStorageIsRefused() throws IOException {
        Path f = tmp.resolve("strided.pt");
        HostileCases.viewOutsideStorage(f);
        assertThatThrownBy(() -> ClipCheckpoint.loadModel(f)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("strided.pt").hasMessageContaining("reaches element 3000 of a storage of 4");
    }

    /**
     * Views that multiply one storage's memory: thousands of whole views of it, or one zero-stride view of a trillion
     * elements (inside the storage by its bounds). Each would be copied apart; refused before any copy is made.
     */
    @Test
    void viewsRepeatingAStorageAreRefusedBeforeCopying() throws IOException {
        Path many = tmp.resolve("many.pt");
        PickleWriter w = new PickleWriter().op('}');
        for (int i = 0; i < 5000; i++) w.str("t" + i).floatTensor("0", 1024, 0, new long[] {1024}, new long[] {1}).op('s');
        PickleWriter.torchSaveZip(many, w.end(), Map.of("0", new byte[4096]), false);
        assertThatThrownBy(() -> TorchPickleReader.stateDict(many)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("many.pt").hasMessageContaining("times the 4096 bytes of the storages they view").hasMessageContaining("forged");
        // the streamed load defers every tensor: refused when the archive is opened, by the records' declared sizes
        assertThatThrownBy(() -> ClipCheckpoint.open(many)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("many.pt").hasMessageContaining("times the 4096 bytes of the storages they view");

        Path wide = tmp.resolve("wide.pt");
        PickleWriter.torchSaveZip(wide, new PickleWriter().op('}').str("w")
                .floatTensor("0", 1, 0, new long[] {1_000_000_000_000L}, new long[] {0}).op('s').end(), Map.of("0", new byte[4]), false);
        assertThatThrownBy(() -> ClipCheckpoint.loadModel(wide)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("wide.pt").hasMessageContaining("forged");
    }

    @Test
    void lengthPrefixedOpcodeCannotClaimMoreThanThePickle() throws IOException {
        byte[] pkl = new PickleWriter().op('}').str("w").lyingStr(Integer.MAX_VALUE).op('s').end();
        Path f = tmp.resolve("claims.pt");
        PickleWriter.torchSaveZip(f, pkl, Map.of(), false);
        assertThatThrownBy(() -> ClipCheckpoint.loadModel(f)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("claims.pt").hasMessageContaining("malformed pickle").hasMessageContaining("claims 2147483647 bytes");
    }

    @Test
    void malformedPickleIsACleanError() throws IOException {
        // REDUCE on a string: razorvine would throw ClassCastException
        byte[] pkl = new PickleWriter().str("a").op(')').op('R').end();
        Path f = tmp.resolve("garbage.pt");
        PickleWriter.torchSaveZip(f, pkl, Map.of(), false);
        assertThatThrownBy(() -> ClipCheckpoint.loadModel(f)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("garbage.pt").hasMessageContaining("malformed pickle");
    }

    /** A 300 MB record of zeros deflates to ~300 KB: refused at the inflation limit, in a 512 MB child JVM. */
    @Test
    void zipBombIsRefusedWithBoundedMemory() throws Exception {
        Path f = tmp.resolve("bomb.pt");
        HostileCases.zipBomb(f);
        assertThat(Files.size(f)).isLessThan(2L << 20);
        ChildJvm.Result r = ChildJvm.run(List.of("-Xmx512m"), LoadProbe.class, "checkpoint", f.toString());
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains("refused: ").contains("bomb.pt").contains("clip4j.limits.maxInflatedBytes");
        assertThat(peakRssMb(r.output())).as(r.output()).isLessThan(1024);
    }

    @Test
    void nanWeightIsAnErrorNamingTheTensor() throws IOException {
        Path f = tmp.resolve("nan.safetensors");
        HostileCases.nanWeight(f);
        assertThatThrownBy(() -> ClipCheckpoint.loadModel(f)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("nan.safetensors").hasMessageContaining("'visual.conv1.weight'").hasMessageContaining("NaN");
    }

    @Test
    void integerWeightIsAnErrorNamingTheTensor() throws IOException {
        Path f = tmp.resolve("i8.safetensors");
        HostileCases.i8Weight(f);
        assertThatThrownBy(() -> ClipCheckpoint.loadModel(f)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("i8.safetensors").hasMessageContaining("'ln_final.weight' is I8");
    }

    @Test
    void overlappingSafetensorsRangesAreRefused() throws IOException {
        Path f = tmp.resolve("overlap.safetensors");
        HostileCases.overlappingSafetensors(f);
        assertThatThrownBy(() -> Safetensors.read(f)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("overlap.safetensors").hasMessageContaining("'a' and 'b' overlap");
    }

    @Test
    void duplicatedSafetensorsKeyIsRefused() throws IOException {
        Path f = tmp.resolve("dup.safetensors");
        HostileCases.duplicateSafetensorsKey(f);
        assertThatThrownBy(() -> Safetensors.read(f)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("dup.safetensors").hasMessageContaining("Duplicate field 'a'");
    }

    @Test
    void huggingFaceActivationIsCheckedWhenTheWeightsFileIsNamedDirectly() throws IOException {
        Path dir = tmp.resolve("hf");
        Files.createDirectories(dir);
        Safetensors.write(dir.resolve("model.safetensors"),
                ClipCheckpointTest.toHuggingFace(Safetensors.read(Fixtures.path("vit/weights.safetensors"))), Map.of());
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"clip\", \"text_config\": {\"num_attention_heads\": 1,"
                + " \"hidden_act\": \"gelu\"}, \"vision_config\": {\"num_attention_heads\": 2, \"hidden_act\": \"gelu\"}}");
        assertThatThrownBy(() -> ClipCheckpoint.loadModel(dir.resolve("model.safetensors"))).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("hidden_act is 'gelu'");
        assertThatThrownBy(() -> ClipCheckpoint.loadModel(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("hidden_act is 'gelu'");
    }

    static long peakRssMb(String out) {
        return Long.parseLong(out.replaceAll("(?s).*peak_rss_mb (-?\\d+).*", "$1"));
    }
}
