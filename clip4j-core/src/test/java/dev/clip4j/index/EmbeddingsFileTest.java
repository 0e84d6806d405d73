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
