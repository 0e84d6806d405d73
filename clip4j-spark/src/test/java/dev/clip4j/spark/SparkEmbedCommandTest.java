package dev.clip4j.spark;

import dev.clip4j.cli.Main;
import dev.clip4j.index.ImageEmbedding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The command line of the Spark module ({@link SparkMain}'s): {@code spark-embed} on local[2] gives the rows
 * {@code embed --images} gives (to 1e-6 relative: the same code, in batches of other sizes), refuses an existing
 * output, and {@code index build --embeddings} reads its Parquet.
 */
class SparkEmbedCommandTest {
    @TempDir
    Path tmp;

    private static final Map<String, Object> SPARK = Map.of("spark-embed", new SparkEmbedCommand());

    private static String[] run(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            int code = Main.execute(SPARK, args);
            return new String[] {Integer.toString(code), out.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(old);
        }
    }

    private static Map<String, ImageEmbedding> rows(Path f) throws Exception {
        return dev.clip4j.index.EmbeddingRows.byPath(f);
    }

    @Test
    void sparkEmbedEqualsEmbedImagesAndFeedsTheIndex() throws Exception {
        Path images = Files.createDirectories(tmp.resolve("images"));
        for (String name : List.of("astronaut.png", "coffee.png", "rocket.png", "camera_gray.png")) {
            Files.copy(Path.of("../testdata/reference/preprocess").resolve(name), images.resolve(name));
        }
        Files.write(images.resolve("broken.png"), new byte[] {1, 2, 3});
        String model = SparkEmbeddingTest.model.toString();
        Path parquet = tmp.resolve("out.parquet"), jsonl = tmp.resolve("out.jsonl");
        String[] r = run("spark-embed", "--model", model, "--input", images.toString(), "--output", parquet.toString(),
                "--master", "local[2]", "--batch-size", "3");
        assertThat(r[0]).isEqualTo("0");
        assertThat(r[1]).contains("\"rows\":5").contains("\"embedded\":4").contains("\"errors\":1");
        assertThat(run("embed", "--model", model, "--images", images.toString(), "--output", jsonl.toString())[0]).isEqualTo("0");
        Map<String, ImageEmbedding> a = rows(jsonl), b = rows(parquet);
        assertThat(b.keySet()).isEqualTo(a.keySet());
        a.forEach((path, e) -> {
            ImageEmbedding s = b.get(path);
            assertThat(s.error() == null).as(path).isEqualTo(e.error() == null);
            assertThat(s.sha256()).isEqualTo(e.sha256());
            assertThat(s.model()).isEqualTo(e.model());
            if (e.embedding() == null) return;
            assertThat(dev.clip4j.Parity.relativeError(s.embedding(), e.embedding())).as(path).isLessThanOrEqualTo(1e-6);
        });

        // an existing output is refused (Spark would fail half-way otherwise)
        String[] again = run("spark-embed", "--model", model, "--input", images.toString(), "--output", parquet.toString());
        assertThat(again[0]).isEqualTo("1");

        String[] idx = run("index", "build", "--model", model, "--embeddings", parquet.toString(), "--out", tmp.resolve("idx").toString());
        assertThat(idx[0]).isEqualTo("0");
        assertThat(idx[1]).contains("4 images").contains("1 skipped");
    }
}
