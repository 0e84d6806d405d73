package dev.clip4j.spark;

import dev.clip4j.Clip;
import dev.clip4j.Precision;
import dev.clip4j.image.ImageInput;
import dev.clip4j.index.ImageEmbedding;
import dev.clip4j.index.ImageIndex;
import dev.clip4j.index.IndexProgress;
import dev.clip4j.index.SearchOptions;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * spark-embed's job on local[2] over the reference photos (PNG, grey, RGBA, in a nested folder) and one broken file:
 * each row's embedding equals clip4j's own ({@link Clip#encode}, what {@code ./clip4j embed --normalize} prints) to 1e-6
 * relative (the same preprocessing and model; batches of other sizes change the GEMM shapes, a few float32 ulps), the
 * broken file's row carries its error, and the Parquet builds a searchable index without the model running again.
 */
class SparkEmbeddingTest {
    static Path model = Path.of("../testdata/reference/vit/weights.safetensors").toAbsolutePath();
    static SparkSession spark;

    @TempDir
    static Path tmp;
    static Path images;

    @BeforeAll
    static void start() throws Exception {
        images = Files.createDirectories(tmp.resolve("images/nested"));
        Path photos = Path.of("../testdata/reference/preprocess");
        for (String name : List.of("astronaut.png", "camera_gray.png", "chelsea_rgba.png", "coffee.png", "rocket.png")) {
            Files.copy(photos.resolve(name), tmp.resolve("images").resolve(name));
        }
        Files.copy(photos.resolve("chelsea.png"), images.resolve("chelsea.png"));
        Files.write(tmp.resolve("images/broken.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 1, 2, 3});
        Files.writeString(tmp.resolve("images/notes.txt"), "not an image");
        images = tmp.resolve("images");
        spark = Sessions.local(2);
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    private static Map<String, ImageEmbedding> read(Path f) throws Exception {
        return dev.clip4j.index.EmbeddingRows.byPath(f);
    }

    @Test
    void rowsEqualClip4jsOwnEmbeddingsAndReportUnreadableImages() throws Exception {
        Path out = tmp.resolve("folder.parquet");
        SparkEmbedding.Written n = SparkEmbedding.run(spark, images.toString(), out.toString(), new SparkEmbedding.Settings(model.toString(), "fp32", 2, 0));
        assertThat(n).isEqualTo(new SparkEmbedding.Written(7, 1)); // six photos and the broken PNG; the text file is not an image
        Map<String, ImageEmbedding> rows = read(out);
        Clip clip = Clip.load(model, Precision.FP32);
        int embedded = 0;
        for (ImageEmbedding r : rows.values()) {
            assertThat(Path.of(r.path())).isAbsolute().exists();
            assertThat(r.sha256()).hasSize(64);
            if (r.path().endsWith("broken.png")) {
                assertThat(r.embedding()).isNull();
                assertThat(r.error()).contains("cannot decode image");
                continue;
            }
            assertThat(r.error()).isNull();
            float[] expected = clip.encode(List.of(ImageInput.of(Path.of(r.path()))), true)[0];
            assertThat(dev.clip4j.Parity.relativeError(r.embedding(), expected)).as(r.path()).isLessThanOrEqualTo(1e-6);
            java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(Path.of(r.path()).toFile());
            assertThat(r.width()).isEqualTo(img.getWidth());
            assertThat(r.height()).isEqualTo(img.getHeight());
            assertThat(r.modified()).isEqualTo(Files.getLastModifiedTime(Path.of(r.path())).toMillis());
            embedded++;
        }
        assertThat(embedded).isEqualTo(6);

        // the index from the Parquet: every readable image, searchable, the broken one skipped
        try (ImageIndex index = ImageIndex.fromEmbeddings(model, out, tmp.resolve("index"), null, IndexProgress.NONE)) {
            assertThat(index.size()).isEqualTo(6);
            assertThat(index.report().skipped()).hasSize(1);
            // the fixture model has a 512-token vocabulary: query by image (its own vector comes first)
            var hits = index.search(ImageInput.of(images.resolve("rocket.png")), SearchOptions.top(3));
            assertThat(hits).hasSize(3);
            assertThat(hits.get(0).image().path()).endsWith("rocket.png");
        }
        // and index update over the same folder finds nothing to embed (sizes and times were kept)
        try (ImageIndex updated = ImageIndex.update(tmp.resolve("index"), model, 8, IndexProgress.NONE)) {
            assertThat(updated.report().embedded()).isZero();
            assertThat(updated.report().unchanged()).isEqualTo(6);
        }
    }

    @Test
    void aParquetTableOfPathsIsReadOnTheExecutors() throws Exception {
        Path table = tmp.resolve("paths.parquet");
        List<org.apache.spark.sql.Row> paths = new ArrayList<>();
        paths.add(org.apache.spark.sql.RowFactory.create(images.resolve("coffee.png").toString()));
        paths.add(org.apache.spark.sql.RowFactory.create(images.resolve("missing.png").toString()));
        spark.createDataFrame(paths, new org.apache.spark.sql.types.StructType().add("path", "string")).write().parquet(table.toString());
        Path out = tmp.resolve("from-paths.parquet");
        SparkEmbedding.run(spark, table.toString(), out.toString(), new SparkEmbedding.Settings(model.toString(), "fp32", 4, 0));
        Map<String, ImageEmbedding> rows = read(out);
        assertThat(rows.get(images.resolve("coffee.png").toString()).embedding()).hasSize(32);
        assertThat(rows.get(images.resolve("missing.png").toString()).error()).contains("cannot read");
    }

    @Test
    void anIndexRefusesEmbeddingsOfAnotherModel() throws Exception {
        Path out = tmp.resolve("resnet.parquet");
        Path resnet = Path.of("../testdata/reference/resnet/weights.safetensors").toAbsolutePath();
        SparkEmbedding.run(spark, images.resolve("nested").toString(), out.toString(), new SparkEmbedding.Settings(resnet.toString(), "fp32", 4, 0));
        assertThatThrownBy(() -> ImageIndex.fromEmbeddings(model, out, tmp.resolve("wrong"), null, IndexProgress.NONE))
                .hasMessageContaining("embedded by another model");
    }
}
