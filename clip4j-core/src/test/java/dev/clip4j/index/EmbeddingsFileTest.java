package dev.clip4j.index;

import dev.clip4j.Fixtures;
import dev.clip4j.Precision;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Embeddings files: rows round-trip; a hostile file is refused naming the file and line, and leaves no index behind. */
class EmbeddingsFileTest {
    @TempDir
    Path tmp;

    /** The model loading on its own thread: batches prepared before it is ready come out as with a model loaded first. */
    @Test
    void aModelStillLoadingGivesTheSameRows() throws Exception {
        Path model = Fixtures.path("vit/weights.safetensors");
        byte[] png = Files.readAllBytes(Fixtures.path("preprocess/chelsea.png"));
        List<ImageEmbedder.Source> batch = List.of(new ImageEmbedder.Source(tmp.resolve("a.png").toString(), png, 5),
                new ImageEmbedder.Source(tmp.resolve("b.png").toString(), new byte[] {1, 2}, 6));
        List<ImageEmbedding> loaded = ImageEmbedder.load(model, Precision.FP32).embed(batch);
        ImageEmbedder loading = ImageEmbedder.loading(model, Precision.FP32);
        ImageEmbedder.Prepared prepared = loading.prepare(batch); // may run before the weights are in
        List<ImageEmbedding> rows = loading.finish(prepared);
        assertThat(loading.ready()).isTrue();
        assertThat(rows).hasSize(2);
        for (int i = 0; i < 2; i++) {
            assertThat(rows.get(i).model()).isEqualTo(loaded.get(i).model()).hasSize(64);
            assertThat(rows.get(i).error()).isEqualTo(loaded.get(i).error());
        }
        assertThat(rows.get(0).embedding()).containsExactly(loaded.get(0).embedding());
        // a checkpoint whose header reads but whose weights do not load (a NaN in the patch embedding) fails finish and
        // fingerprint with its own error, not a wrapper's
        Path broken = tmp.resolve("broken.safetensors");
        byte[] bytes = Files.readAllBytes(model);
        long headerLength = java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        com.fasterxml.jackson.databind.JsonNode header = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(new String(bytes, 8, (int) headerLength, java.nio.charset.StandardCharsets.UTF_8));
        assertThat(header.get("visual.conv1.weight").get("dtype").asText()).isEqualTo("F32");
        int at = (int) (8 + headerLength + header.get("visual.conv1.weight").get("data_offsets").get(0).asLong());
        java.nio.ByteBuffer.wrap(bytes, at, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(Float.NaN);
        Files.write(broken, bytes);
        ImageEmbedder failing = ImageEmbedder.loading(broken, Precision.FP32);
        ImageEmbedder.Prepared p = failing.prepare(batch);
        assertThatThrownBy(() -> failing.finish(p)).isInstanceOf(dev.clip4j.checkpoint.CheckpointException.class)
                .hasMessageContaining("visual.conv1.weight").hasMessageContaining("NaN");
        assertThatThrownBy(failing::fingerprint).isInstanceOf(dev.clip4j.checkpoint.CheckpointException.class);
    }

    @Test
    void rowsRoundTripAndBadFilesAreRefused() throws Exception {
        Path model = Fixtures.path("vit/weights.safetensors");
        ImageEmbedder embedder = ImageEmbedder.load(model, Precision.FP32);
        byte[] png = Files.readAllBytes(Fixtures.path("preprocess/chelsea.png"));
        List<ImageEmbedding> rows = embedder.embed(List.of(new ImageEmbedder.Source(tmp.resolve("a.png").toString(), png, 5),
                new ImageEmbedder.Source(tmp.resolve("b.png").toString(), new byte[] {1, 2}, 6)));
        assertThat(rows.get(0).embedding()).hasSize(32);
        assertThat(rows.get(1).error()).isNotNull().doesNotStartWith(tmp.toString());
        Path f = tmp.resolve("e.jsonl");
        EmbeddingsFile.writeJsonLines(f, rows);
        List<ImageEmbedding> back = new ArrayList<>();
        EmbeddingsFile.forEach(f, back::add);
        assertThat(back).hasSize(2);
        assertThat(back.get(0).embedding()).containsExactly(rows.get(0).embedding());
        assertThat(back.get(0).model()).isEqualTo(embedder.fingerprint()).hasSize(64);
        assertThat(back.get(1).embedding()).isNull();

        String good = Files.readAllLines(f).get(0);
        for (String[] c : new String[][] {
                {"{not json", "e1.jsonl:1: not a JSON object"},
                {"{\"embedding\": [1]}", "e2.jsonl:1: a row needs a \"path\""},
                {good.replace("\"embedding\":[", "\"embedding\":[1,"), "has 33 dimensions"},
                {good.replace("\"model\":\"", "\"model\":\"0"), "embedded by another model"},
                {"", "no rows"}}) {
            String name = "e" + (c[1].startsWith("e1") ? 1 : c[1].startsWith("e2") ? 2 : c[1].hashCode() & 0xff) + ".jsonl";
            Path bad = tmp.resolve(name);
            Files.writeString(bad, c[0] + "\n");
            Path out = tmp.resolve("idx-" + name);
            assertThatThrownBy(() -> ImageIndex.fromEmbeddings(model, bad, out, null, IndexProgress.NONE))
                    .as(c[0]).isInstanceOf(IndexException.class).hasMessageContaining(c[1]);
            assertThat(out).doesNotExist();
        }
        try (var left = Files.list(tmp)) {
            assertThat(left.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains("importing"));
        }
        Path notJson = tmp.resolve("e.bin");
        Files.write(notJson, new byte[] {1});
        assertThatThrownBy(() -> EmbeddingsFile.forEach(notJson, r -> {})).hasMessageContaining("clip4j-spark");
    }
}
