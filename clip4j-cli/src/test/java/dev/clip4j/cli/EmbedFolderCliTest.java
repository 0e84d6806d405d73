package dev.clip4j.cli;

import dev.clip4j.index.ImageEmbedding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code embed --images DIR [--shard i/n]}: one row per image, the shards together are the whole folder with the same
 * vectors (to 1e-6: shards batch the images differently, which changes the GEMM shapes by a few float32 ulps), and
 * {@code index build --embeddings} makes an index of them without the model running again.
 */
class EmbedFolderCliTest {
    @TempDir
    Path tmp;

    private static Map<String, ImageEmbedding> rows(Path f) throws Exception {
        return dev.clip4j.index.EmbeddingRows.byPath(f);
    }

    @Test
    void shardsCoverTheFolderAndBuildAnIndex() throws Exception {
        Path images = Files.createDirectories(tmp.resolve("images"));
        for (String name : List.of("astronaut.png", "coffee.png", "rocket.png", "camera_gray.png", "chelsea.png")) {
            Files.copy(CliTest.fixture("preprocess/" + name), images.resolve(name));
        }
        Files.write(images.resolve("broken.png"), new byte[] {1, 2, 3});
        String model = CliTest.fixture("vit/weights.safetensors").toString();
        Path whole = tmp.resolve("whole.jsonl");
        CliTest.Result r = CliTest.run("embed", "--model", model, "--images", images.toString(), "--output", whole.toString(), "--batch-size", "4");
        assertThat(r.code()).as(r.err()).isZero();
        Map<String, ImageEmbedding> all = rows(whole);
        assertThat(all).hasSize(6);
        assertThat(all.values().stream().filter(e -> e.error() != null).map(ImageEmbedding::path).toList())
                .containsExactly(images.resolve("broken.png").toString());
        // rows are written batch by batch as they are embedded, still in the folder's sorted order, to a file or stdout
        List<String> order = new ArrayList<>();
        for (String line : Files.readAllLines(whole)) order.add(new com.fasterxml.jackson.databind.ObjectMapper().readTree(line).get("path").asText());
        assertThat(order).hasSize(6).isSorted();
        CliTest.Result streamed = CliTest.run("embed", "--model", model, "--images", images.toString(), "--batch-size", "1");
        assertThat(streamed.code()).as(streamed.err()).isZero();
        List<String> streamedOrder = new ArrayList<>();
        for (String line : streamed.out().split("\n")) {
            streamedOrder.add(new com.fasterxml.jackson.databind.ObjectMapper().readTree(line).get("path").asText());
        }
        assertThat(streamedOrder).isEqualTo(order);
        Map<String, ImageEmbedding> union = new TreeMap<>();
        List<Integer> sizes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Path part = tmp.resolve("part" + i + ".jsonl");
            CliTest.Result s = CliTest.run("embed", "--model", model, "--images", images.toString(), "--shard", i + "/3", "--output", part.toString());
            assertThat(s.code()).as(s.err()).isZero();
            Map<String, ImageEmbedding> p = rows(part);
            sizes.add(p.size());
            for (String k : p.keySet()) assertThat(union.put(k, p.get(k))).as("in two shards: " + k).isNull();
        }
        assertThat(sizes).containsExactly(2, 2, 2);
        assertThat(union.keySet()).isEqualTo(all.keySet());
        all.forEach((k, e) -> {
            if (e.embedding() == null) return;
            float[] s = union.get(k).embedding();
            for (int i = 0; i < s.length; i++) {
                assertThat((double) s[i]).isCloseTo(e.embedding()[i], org.assertj.core.api.Assertions.within(1e-6));
            }
        });

        CliTest.Result idx = CliTest.run("index", "build", "--model", model, "--embeddings", whole.toString(), "--out", tmp.resolve("idx").toString());
        assertThat(idx.code()).as(idx.err()).isZero();
        assertThat(idx.out()).contains("5 images").contains("1 skipped");
        CliTest.Result bad = CliTest.run("embed", "--model", model, "--images", images.toString(), "--shard", "3/3");
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).contains("--shard 3/3");
        CliTest.Result parquet = CliTest.run("index", "build", "--model", model, "--embeddings", tmp.resolve("x.parquet").toString(),
                "--out", tmp.resolve("idx2").toString());
        assertThat(parquet.code()).isEqualTo(1);
    }

    /**
     * A folder loads the image tower only (the text tower is never read) at every precision: bf16 and int8 convert the
     * handed-over model in place, and their rows stay within cosine 0.99 of fp32's, with the same fingerprint.
     */
    @Test
    void everyPrecisionEmbedsAFolderFromTheImageTowerAlone() throws Exception {
        Path images = Files.createDirectories(tmp.resolve("images"));
        for (String name : List.of("astronaut.png", "coffee.png", "chelsea.png")) Files.copy(CliTest.fixture("preprocess/" + name), images.resolve(name));
        String model = CliTest.fixture("vit/weights.safetensors").toString();
        Map<String, Map<String, ImageEmbedding>> byPrecision = new TreeMap<>();
        for (String precision : List.of("fp32", "bf16", "int8")) {
            Path out = tmp.resolve(precision + ".jsonl");
            CliTest.Result r = CliTest.run("embed", "--model", model, "--images", images.toString(), "--precision", precision, "--output", out.toString());
            assertThat(r.code()).as(precision + ": " + r.err()).isZero();
            byPrecision.put(precision, rows(out));
        }
        Map<String, ImageEmbedding> fp32 = byPrecision.get("fp32");
        for (String precision : List.of("bf16", "int8")) {
            byPrecision.get(precision).forEach((k, e) -> {
                assertThat(e.model()).isEqualTo(fp32.get(k).model());
                float[] a = e.embedding(), b = fp32.get(k).embedding();
                double dot = 0;
                for (int i = 0; i < a.length; i++) dot += (double) a[i] * b[i];
                assertThat(dot).as("%s %s against fp32", precision, k).isGreaterThan(0.99);
            });
        }
    }
}
