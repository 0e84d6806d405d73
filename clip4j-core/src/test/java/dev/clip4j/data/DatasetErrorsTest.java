package dev.clip4j.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Bad datasets are errors naming the file (and line), never silent drops. */
class DatasetErrorsTest {
    @TempDir
    Path tmp;

    private Path png(String name) throws Exception {
        Path p = tmp.resolve(name);
        Files.createDirectories(p.getParent());
        javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(4, 4, java.awt.image.BufferedImage.TYPE_3BYTE_BGR), "png", p.toFile());
        return p;
    }

    @Test
    void captionsFileReadsTsvCsvAndJsonl() throws Exception {
        png("a.png");
        png("b.png");
        Files.writeString(tmp.resolve("c.tsv"), "image\tcaption\na.png\ta red square\nb.png\ta blue square\n");
        Files.writeString(tmp.resolve("c.csv"), "a.png,\"a red, square\"\n");
        Files.writeString(tmp.resolve("c.jsonl"), "{\"image\": \"b.png\", \"caption\": \"blue\"}\n");
        CaptionsDataset tsv = new CaptionsDataset(tmp.resolve("c.tsv"));
        assertThat(tsv.size()).isEqualTo(2);
        assertThat(tsv.caption(1, new SplittableRandom(0))).isEqualTo("a blue square");
        assertThat(new CaptionsDataset(tmp.resolve("c.csv")).caption(0)).isEqualTo("a red, square");
        assertThat(new CaptionsDataset(tmp.resolve("c.jsonl")).caption(0)).isEqualTo("blue");
    }

    @Test
    void captionsFileWithBadRowNamesLine() throws Exception {
        png("a.png");
        Files.writeString(tmp.resolve("bad.tsv"), "a.png\tfine\nno-tab-here\n");
        assertThatThrownBy(() -> new CaptionsDataset(tmp.resolve("bad.tsv")))
                .isInstanceOf(DatasetException.class).hasMessageContaining("bad.tsv:2").hasMessageContaining("expected");
    }

    @Test
    void missingImageNamesFileAndLine() throws Exception {
        png("a.png");
        Files.writeString(tmp.resolve("m.jsonl"), "{\"image\": \"a.png\", \"caption\": \"x\"}\n{\"image\": \"gone.png\", \"caption\": \"y\"}\n");
        assertThatThrownBy(() -> new CaptionsDataset(tmp.resolve("m.jsonl")))
                .isInstanceOf(DatasetException.class).hasMessageContaining("m.jsonl:2").hasMessageContaining("gone.png");
    }

    @Test
    void emptyDatasetsAreErrors() throws Exception {
        Files.createDirectories(tmp.resolve("empty/cats"));
        assertThatThrownBy(() -> Datasets.open(tmp.resolve("empty").toString()))
                .isInstanceOf(DatasetException.class).hasMessageContaining("no images");
        Files.writeString(tmp.resolve("none.tsv"), "\n\n");
        assertThatThrownBy(() -> Datasets.open(tmp.resolve("none.tsv").toString()))
                .isInstanceOf(DatasetException.class).hasMessageContaining("none.tsv").hasMessageContaining("no image-caption rows");
        assertThatThrownBy(() -> Datasets.open("no-such-dataset"))
                .isInstanceOf(DatasetException.class).hasMessageContaining("unknown dataset 'no-such-dataset'");
    }

    @Test
    void unreadableImageSurfacesWithItsName() throws Exception {
        png("set/cats/ok.png");
        png("set/dogs/ok.png");
        Files.writeString(tmp.resolve("set/dogs/broken.png"), "not really a png");
        ImageTextDataset ds = Datasets.open(tmp.resolve("set").toString());
        int broken = -1;
        for (int i = 0; i < ds.size(); i++) {
            try {
                ds.image(i);
            } catch (dev.clip4j.image.ImageException e) {
                assertThat(e.getMessage()).contains("broken.png");
                broken = i;
            }
        }
        assertThat(broken).isNotNegative();
        try (BatchLoader loader = new BatchLoader(ds, new int[] {0, 1, 2}, 0, 3, 16, 77, false, 0, 1, 1)) {
            assertThatThrownBy(loader::next).hasMessageContaining("broken.png");
        }
    }
}
