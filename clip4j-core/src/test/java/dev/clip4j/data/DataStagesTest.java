package dev.clip4j.data;

import dev.clip4j.Fixtures;
import dev.clip4j.eval.Similarity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The data stages: evaluation loading, unlabelled folders, dataset templates, similarity and top-k. */
class DataStagesTest {
    @TempDir
    Path tmp;

    private Path folder(int n) throws IOException {
        Path root = Files.createDirectories(tmp.resolve("imgs/sub"));
        for (int i = 0; i < n; i++) {
            Path dir = i % 2 == 0 ? root.getParent() : root;
            Files.copy(Fixtures.path("preprocess/chelsea.png"), dir.resolve("img" + i + ".png"));
        }
        Files.writeString(root.resolve("notes.txt"), "not an image");
        return root.getParent();
    }

    @Test
    void unlabelledFolderListsImagesRecursivelyInSortedOrder() throws IOException {
        ImageFolderDataset ds = ImageFolderDataset.open(folder(5));
        assertThat(ds.size()).isEqualTo(5);
        List<Path> sorted = new ArrayList<>(ds.files());
        sorted.sort(null);
        assertThat(ds.files()).containsExactlyElementsOf(sorted).allMatch(p -> p.toString().endsWith(".png"));
        assertThat(ds.label(0)).isEqualTo(-1);
        assertThat(Datasets.open("images:" + tmp.resolve("imgs")).size()).isEqualTo(5);
        assertThatThrownBy(() -> ImageFolderDataset.open(Files.createDirectories(tmp.resolve("empty"))))
                .isInstanceOf(DatasetException.class).hasMessageContaining("no images");
    }

    /** Evaluation keeps the last, smaller batch and tokenizes nothing. */
    @Test
    void evaluationLoaderKeepsTheLastBatchAndSkipsText() throws IOException {
        ImageFolderDataset ds = ImageFolderDataset.open(folder(5));
        List<Integer> sizes = new ArrayList<>();
        try (BatchLoader loader = BatchLoader.evaluation(ds, 2, 32, 77, false)) {
            for (BatchLoader.Batch b; (b = loader.next()) != null; ) {
                sizes.add(b.size());
                assertThat(b.textLength()).isZero();
                assertThat(b.tokens()).isEmpty();
                assertThat(b.images()).hasSize(b.size() * 3 * 32 * 32);
            }
        }
        assertThat(sizes).containsExactly(2, 2, 1);
    }

    /** Training drops the last partial batch, and the same sample gets the same crop and caption on any thread. */
    @Test
    void trainingLoaderIsSeededPerSample() throws IOException {
        ImageFolderDataset ds = ImageFolderDataset.open(folder(5));
        int[] order = BatchLoader.epochOrder(ds.size(), 7, 0);
        List<float[]> a = new ArrayList<>(), b = new ArrayList<>();
        try (BatchLoader one = new BatchLoader(ds, order, 0, 2, 32, 77, true, 7, 1, 1);
             BatchLoader two = new BatchLoader(ds, order, 0, 2, 32, 77, true, 7, 2, 3)) {
            for (BatchLoader.Batch x; (x = one.next()) != null; ) a.add(x.images());
            for (BatchLoader.Batch x; (x = two.next()) != null; ) b.add(x.images());
        }
        assertThat(a).hasSize(2);
        for (int i = 0; i < a.size(); i++) assertThat(b.get(i)).containsExactly(a.get(i));
    }

    @Test
    void datasetsDeclareTheirTemplates() {
        assertThat(new ImageTextDataset() {
            public String name() { return "x"; }
            public int size() { return 0; }
            public dev.clip4j.image.RasterImage image(int i) { return null; }
            public String caption(int i, java.util.SplittableRandom r) { return ""; }
            public int label(int i) { return -1; }
            public List<String> classNames() { return List.of(); }
        }.templates()).isEqualTo(Prompts.TEMPLATES);
    }

    @Test
    void similarityAndTopK() {
        float[][] q = {{1, 0}, {0.6f, 0.8f}}, k = {{0, 1}, {1, 0}, {0.8f, 0.6f}};
        float[][] s = Similarity.scores(q, k);
        for (int i = 0; i < q.length; i++) {
            for (int j = 0; j < k.length; j++) {
                assertThat(s[i][j]).isCloseTo(q[i][0] * k[j][0] + q[i][1] * k[j][1], org.assertj.core.api.Assertions.within(1e-6f));
            }
        }
        assertThat(Similarity.topK(s, 2)).isEqualTo(new int[][] {{1, 2}, {2, 0}});
        assertThat(Similarity.topK(new float[][] {{0.5f, 0.5f, 0.9f}}, 5)).isEqualTo(new int[][] {{2, 0, 1}});
    }
}
