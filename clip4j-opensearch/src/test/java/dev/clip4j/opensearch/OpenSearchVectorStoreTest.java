package dev.clip4j.opensearch;

import dev.clip4j.Precision;
import dev.clip4j.image.ImageInput;
import dev.clip4j.index.ImageIndex;
import dev.clip4j.index.IndexException;
import dev.clip4j.index.IndexFixture;
import dev.clip4j.index.IndexProgress;
import dev.clip4j.index.IndexSource;
import dev.clip4j.index.SearchHit;
import dev.clip4j.index.SearchOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The OpenSearch store behind the same {@link ImageIndex} API, against a real server ({@code mvn -Popensearch test}):
 * it finds what the embedded Lucene store finds, with the same exact scores, and updates, merges and errors alike.
 */
class OpenSearchVectorStoreTest {
    private static OpenSearchServer server;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startServer() throws Exception {
        server = OpenSearchServer.start();
    }

    @AfterAll
    static void stopServer() {
        if (server != null) server.close();
    }

    private String store(String name) {
        return "opensearch:" + server.url + "/" + name;
    }

    private static ImageIndex build(Path images, Path dir, String store) throws Exception {
        return ImageIndex.build(IndexFixture.get().model(), IndexSource.of(images), dir, Precision.FP32, 8, IndexProgress.NONE, store);
    }

    private static List<String> paths(List<SearchHit> hits) {
        return hits.stream().map(h -> h.image().path()).toList();
    }

    private static List<Float> scores(List<SearchHit> hits) {
        return hits.stream().map(SearchHit::score).toList();
    }

    @Test
    void findsWhatTheEmbeddedStoreFindsWithTheSameExactScores() throws Exception {
        Path images = IndexFixture.colourFolders(tmp.resolve("photos"), 6, 31);
        try (ImageIndex lucene = build(images, tmp.resolve("lucene"), "lucene");
             ImageIndex remote = build(images, tmp.resolve("remote"), store("colours"))) {
            assertThat(remote.size()).isEqualTo(18);
            assertThat(remote.manifest().store()).isEqualTo(store("colours"));
            for (String colour : IndexFixture.COLOURS) {
                for (SearchOptions.Method m : SearchOptions.Method.values()) {
                    SearchOptions o = SearchOptions.top(5).withMethod(m);
                    List<SearchHit> want = lucene.search(colour, o), got = remote.search(colour, o);
                    assertThat(paths(got)).as(colour + " " + m).isEqualTo(paths(want));
                    assertThat(scores(got)).as(colour + " " + m).isEqualTo(scores(want));
                    assertThat(got.get(0).image().path()).contains("/" + colour + "/");
                }
            }
            Path query = images.resolve("green/0.png");
            assertThat(paths(remote.search(ImageInput.of(query), SearchOptions.top(3))))
                    .isEqualTo(paths(lucene.search(ImageInput.of(query), SearchOptions.top(3))));
            String like = images.resolve("blue/2.png").toAbsolutePath().toString();
            assertThat(paths(remote.searchLike(like, SearchOptions.top(4)))).isEqualTo(paths(lucene.searchLike(like, SearchOptions.top(4))));
        }
        try (ImageIndex reopened = ImageIndex.open(tmp.resolve("remote"))) {
            assertThat(reopened.size()).isEqualTo(18);
            assertThat(reopened.search("red", SearchOptions.top(1)).get(0).image().path()).contains("/red/");
        }
    }

    @Test
    void updateAddsAndRemovesAndMergeBringsTheVectorsHome() throws Exception {
        Path images = IndexFixture.colourFolders(tmp.resolve("photos"), 4, 32);
        Path dir = tmp.resolve("remote");
        build(images, dir, store("updates")).close();
        Files.delete(images.resolve("red/0.png"));
        IndexFixture.write(IndexFixture.image(2, new java.util.Random(5)), images.resolve("blue/new.png"));
        Files.copy(images.resolve("green/1.png"), images.resolve("green/copy.png"));
        try (ImageIndex updated = ImageIndex.update(dir, null, 8, IndexProgress.NONE)) {
            assertThat(updated.report().removed()).isEqualTo(1);
            assertThat(updated.report().embedded()).isEqualTo(1);
            assertThat(updated.report().reused()).isEqualTo(1);
            assertThat(updated.size()).isEqualTo(13);
            assertThat(updated.image(images.resolve("red/0.png").toAbsolutePath().toString())).isNull();
        }
        Path other = IndexFixture.colourFolders(tmp.resolve("more"), 2, 33);
        build(other, tmp.resolve("local"), "lucene").close();
        ImageIndex.merge(dir, tmp.resolve("local"), tmp.resolve("merged"));
        try (ImageIndex merged = ImageIndex.open(tmp.resolve("merged"))) {
            assertThat(merged.manifest().store()).isEqualTo("lucene");
            assertThat(merged.size()).isEqualTo(19);
        }
    }

    @Test
    void badLocationsAndMismatchesAreClearErrors() throws Exception {
        Path images = IndexFixture.colourFolders(tmp.resolve("photos"), 1, 34);
        assertThatThrownBy(() -> build(images, tmp.resolve("a"), "opensearch:http://127.0.0.1:9200/Upper Case"))
                .isInstanceOf(IndexException.class).hasMessageContaining("lower-case");
        assertThat(tmp.resolve("a")).as("nothing is written for a store that cannot be opened").doesNotExist();
        assertThatThrownBy(() -> build(images, tmp.resolve("b"), "elastic:http://127.0.0.1:9200/x"))
                .isInstanceOf(IndexException.class).hasMessageContaining("unknown").hasMessageContaining("opensearch:");
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        assertThatThrownBy(() -> build(images, tmp.resolve("c"), "opensearch:http://127.0.0.1:" + closed + "/x"))
                .isInstanceOf(IndexException.class).hasMessageContaining("cannot reach OpenSearch");
        // an OpenSearch index of another dimension (another model's, or not clip4j's at all) is refused, not overwritten
        try (OpenSearchVectorStore other = OpenSearchVectorStore.open(store("wide"), 32, true)) {
            other.commit();
        }
        assertThatThrownBy(() -> build(images, tmp.resolve("d"), store("wide")))
                .isInstanceOf(IndexException.class).hasMessageContaining("not a clip4j store of 16-d vectors");
        assertThat(tmp.resolve("d")).doesNotExist();
    }
}
