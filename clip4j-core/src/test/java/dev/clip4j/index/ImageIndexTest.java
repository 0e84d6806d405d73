package dev.clip4j.index;

import dev.clip4j.Precision;
import dev.clip4j.image.ImageInput;
import dev.clip4j.onnx.OnnxThreads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImageIndexTest {
    @TempDir
    Path tmp;

    private ImageIndex build(Path images, Path out) throws Exception {
        return ImageIndex.build(IndexFixture.get().model(), IndexSource.of(images), out, Precision.FP32, 8, IndexProgress.NONE);
    }

    private static String colourOf(SearchHit h) {
        return Path.of(h.image().path()).getParent().getFileName().toString();
    }

    @Test
    void searchesByTextAndByImage() throws Exception {
        Path images = IndexFixture.colourFolders(tmp.resolve("photos"), 6, 11);
        try (ImageIndex index = build(images, tmp.resolve("idx"))) {
            assertThat(index.size()).isEqualTo(18);
            assertThat(index.report().embedded()).isEqualTo(18);
            for (String colour : IndexFixture.COLOURS) {
                List<SearchHit> hits = index.search(colour, "a photo of a {}.", SearchOptions.top(3));
                assertThat(hits).hasSize(3);
                assertThat(hits.get(0).rank()).isEqualTo(1);
                assertThat(colourOf(hits.get(0))).as("top-1 for '%s'", colour).isEqualTo(colour);
                assertThat(hits.get(0).score()).isGreaterThanOrEqualTo(hits.get(1).score());
            }
            // a new image (not indexed) finds its colour; an indexed image finds itself with cosine 1
            for (int c = 0; c < 3; c++) {
                ByteArrayOutputStream png = new ByteArrayOutputStream();
                javax.imageio.ImageIO.write(IndexFixture.image(c, new Random(99 + c)), "png", png);
                SearchHit top = index.search(ImageInput.of(png.toByteArray(), "query.png"), SearchOptions.top(1)).get(0);
                assertThat(colourOf(top)).isEqualTo(IndexFixture.COLOURS[c]);
            }
            String self = images.resolve("green/3.png").toAbsolutePath().toString();
            SearchHit top = index.search(ImageInput.of(Path.of(self)), SearchOptions.top(1)).get(0);
            assertThat(top.image().path()).isEqualTo(self);
            assertThat((double) top.score()).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
            assertThat(index.searchLike(self, SearchOptions.top(1)).get(0).image().path()).isEqualTo(self);
            assertThat(top.image().sha256()).isEqualTo(dev.clip4j.io.Sha256.hex(Files.readAllBytes(Path.of(self))));
            assertThat(top.image().size()).isEqualTo(Files.size(Path.of(self)));
        }
    }

    /**
     * A build and an update embed with the image tower alone and leave the whole model to the first query, which
     * gets the same answers as an index opened afresh and is checked by the weights' hash like an opened one.
     */
    @Test
    void buildsReadTheImageTowerAloneAndTheFirstQueryLoadsTheModel() throws Exception {
        Path images = IndexFixture.colourFolders(tmp.resolve("photos"), 3, 31);
        Path model = copyTree(IndexFixture.get().model(), tmp.resolve("model"));
        List<SearchHit> built;
        try (ImageIndex index = ImageIndex.build(model, IndexSource.of(images), tmp.resolve("idx"), Precision.FP32, 8, IndexProgress.NONE)) {
            assertThat(index.report().embedded()).isEqualTo(9);
            assertThat(index.queryModelLoaded()).as("after the build").isFalse();
            built = index.search("red", "a photo of a {}.", SearchOptions.top(9));
            assertThat(index.queryModelLoaded()).isTrue();
            assertThat(index.clip().model().hasTextTower()).isTrue();
        }
        try (ImageIndex opened = ImageIndex.open(tmp.resolve("idx"))) {
            assertThat(opened.search("red", "a photo of a {}.", SearchOptions.top(9))).isEqualTo(built);
        }
        Files.writeString(images.resolve("red/extra.png"), "not an image");
        try (ImageIndex updated = ImageIndex.update(tmp.resolve("idx"), null, 8, IndexProgress.NONE)) {
            assertThat(updated.queryModelLoaded()).as("after the update").isFalse();
            // the model file replaced after the update: the first query refuses it, as opening the index would
            dev.clip4j.data.DataFiles.deleteTree(model);
            copyTree(IndexFixture.get().otherModel(), model);
            assertThatThrownBy(() -> updated.search("red", SearchOptions.top(1))).isInstanceOf(IndexException.class)
                    .hasMessageContaining("is a different model");
        }
    }

    /**
     * A service chooses how ONNX Runtime uses the cores for its queries (`serve --onnx-threads`): the choice reaches
     * the query model's sessions and changes how they run, never the answers.
     */
    @Test
    void anOpenedIndexsOnnxThreadsChangeHowQueriesRunNotTheAnswers() throws Exception {
        Path images = IndexFixture.colourFolders(tmp.resolve("photos"), 3, 41);
        build(images, tmp.resolve("idx")).close();
        dev.clip4j.Backend.use(dev.clip4j.Backend.ONNX);
        try (ImageIndex spin = ImageIndex.open(tmp.resolve("idx"), null, OnnxThreads.SPIN)) {
            assertThat(spin.clip().onnxThreads()).contains(OnnxThreads.SPIN);
            List<SearchHit> expected = spin.search("red", "a photo of a {}.", SearchOptions.top(9));
            for (OnnxThreads use : new OnnxThreads[] {OnnxThreads.SLEEP, OnnxThreads.SLICES}) {
                try (ImageIndex other = ImageIndex.open(tmp.resolve("idx"), null, use)) {
                    assertThat(other.clip().onnxThreads()).contains(use);
                    assertThat(other.search("red", "a photo of a {}.", SearchOptions.top(9))).as("%s", use).isEqualTo(expected);
                }
            }
        } finally {
            dev.clip4j.Backend.use(dev.clip4j.Backend.TORCH);
        }
        try (ImageIndex torch = ImageIndex.open(tmp.resolve("idx"), null, OnnxThreads.SLEEP)) {
            assertThat(torch.clip().onnxThreads()).as("libtorch has no such threads").isEmpty();
        }
    }

    /**
     * An index opened for one kind of query reads only that tower, answers those queries as an index opened for both,
     * refuses the other kind saying why, and still checks the model against the index.
     */
    @Test
    void anIndexOpenedForOneKindOfQueryAnswersItAsBothDoAndRefusesTheOther() throws Exception {
        Path images = IndexFixture.colourFolders(tmp.resolve("photos"), 3, 41);
        build(images, tmp.resolve("idx")).close();
        Path query;
        try (var s = Files.walk(images)) {
            query = s.filter(Files::isRegularFile).sorted().findFirst().orElseThrow();
        }
        try (ImageIndex both = ImageIndex.open(tmp.resolve("idx"), null, OnnxThreads.SPIN, dev.clip4j.model.Towers.BOTH);
             ImageIndex texts = ImageIndex.open(tmp.resolve("idx"), null, OnnxThreads.SPIN, dev.clip4j.model.Towers.TEXT);
             ImageIndex pictures = ImageIndex.open(tmp.resolve("idx"), null, OnnxThreads.SPIN, dev.clip4j.model.Towers.IMAGE)) {
            assertThat(texts.search("red", "a photo of a {}.", SearchOptions.top(9)))
                    .isEqualTo(both.search("red", "a photo of a {}.", SearchOptions.top(9)));
            assertThat(pictures.search(ImageInput.of(query), SearchOptions.top(5))).isEqualTo(both.search(ImageInput.of(query), SearchOptions.top(5)));
            assertThatThrownBy(() -> texts.search(ImageInput.of(query), SearchOptions.top(5))).hasMessageContaining("loaded for texts only");
            assertThatThrownBy(() -> pictures.search("red", null, SearchOptions.top(5))).hasMessageContaining("loaded for images only");
        }
        Path other = copyTree(IndexFixture.get().model(), tmp.resolve("other"));
        Path weights = other.resolve(dev.clip4j.checkpoint.ClipCheckpoint.WEIGHTS_FILE);
        byte[] bytes = Files.readAllBytes(weights);
        bytes[bytes.length - 4] ^= 1; // the last float's lowest mantissa bit: still a model, but not the index's
        Files.write(weights, bytes);
        assertThatThrownBy(() -> ImageIndex.open(tmp.resolve("idx"), other, OnnxThreads.SPIN, dev.clip4j.model.Towers.TEXT))
                .hasMessageContaining("is a different model");
    }

    /**
     * A new index's model loads while the first images are read and decoded, and the manifest (which records the
     * weights' fingerprint) and the store are written only once it has: a model that fails to load leaves no directory
     * it made, and an empty one given stays empty for the next build; the vectors are those of the model loaded first. An empty folder still gets its
     * manifest.
     */
    @Test
    void aNewIndexIsWrittenOnlyOnceItsModelHasLoaded() throws Exception {
        Path images = IndexFixture.colourFolders(tmp.resolve("photos"), 2, 23);
        Path model = IndexFixture.get().model();
        Path broken = copyTree(model, tmp.resolve("broken"));
        Path weights = broken.resolve(dev.clip4j.checkpoint.ClipCheckpoint.WEIGHTS_FILE);
        byte[] bytes = Files.readAllBytes(weights);
        long headerLength = java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        com.fasterxml.jackson.databind.JsonNode conv = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(new String(bytes, 8, (int) headerLength, java.nio.charset.StandardCharsets.UTF_8)).get("visual.conv1.weight");
        assertThat(conv.get("dtype").asText()).isEqualTo("F32");
        int at = (int) (8 + headerLength + conv.get("data_offsets").get(0).asLong());
        java.nio.ByteBuffer.wrap(bytes, at, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(Float.NaN);
        Files.write(weights, bytes);

        Path idx = tmp.resolve("idx");
        assertThatThrownBy(() -> ImageIndex.build(broken, IndexSource.of(images), idx, Precision.FP32, 4, IndexProgress.NONE))
                .isInstanceOf(dev.clip4j.checkpoint.CheckpointException.class)
                .hasMessageContaining("visual.conv1.weight").hasMessageContaining("NaN");
        assertThat(idx).as("the directory the build made is gone").doesNotExist();
        Files.createDirectories(idx);
        assertThatThrownBy(() -> ImageIndex.build(broken, IndexSource.of(images), idx, Precision.FP32, 4, IndexProgress.NONE))
                .isInstanceOf(dev.clip4j.checkpoint.CheckpointException.class);
        assertThat(idx).as("an empty directory given stays, with no manifest and no store").isEmptyDirectory();

        String fingerprint = dev.clip4j.checkpoint.ClipCheckpoint.loadForInference(model, false, true).fingerprint();
        List<String> paths = new java.util.ArrayList<>();
        try (ImageIndex index = ImageIndex.build(model, IndexSource.of(images), idx, Precision.FP32, 4, IndexProgress.NONE)) {
            assertThat(index.report().embedded()).isEqualTo(6);
            assertThat(index.manifest().modelSha256()).isEqualTo(fingerprint);
            assertThat(IndexManifest.read(idx).modelSha256()).isEqualTo(fingerprint);
            for (String c : IndexFixture.COLOURS) for (int i = 0; i < 2; i++) paths.add(images.resolve(c + "/" + i + ".png").toString());
            for (String path : paths) assertThat(index.image(path)).as(path).isNotNull();
        }
        ImageEmbedder first = ImageEmbedder.load(model, Precision.FP32);
        try (VectorStore store = VectorStores.open(idx, VectorStores.EMBEDDED, 16, false)) {
            for (String path : paths) {
                float[] expected = first.embed(List.of(new ImageEmbedder.Source(path, Files.readAllBytes(Path.of(path)), 0))).get(0).embedding();
                // unit vectors of 16 float32 components: batches of 4 against 1 differ by rounding alone
                assertThat(store.vector(path)).as(path).containsExactly(expected, org.assertj.core.data.Offset.offset(1e-5f));
            }
        }

        Path empty = Files.createDirectories(tmp.resolve("nothing"));
        try (ImageIndex none = ImageIndex.build(model, IndexSource.of(empty), tmp.resolve("none"), Precision.FP32, 4, IndexProgress.NONE)) {
            assertThat(none.size()).isZero();
            assertThat(IndexManifest.read(tmp.resolve("none")).modelSha256()).isEqualTo(fingerprint);
        }
    }

    /** A copy of a model (a file, or a directory's files). */
    private static Path copyTree(Path from, Path to) throws java.io.IOException {
        if (!Files.isDirectory(from)) return Files.copy(from, to);
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) copyTree(f, to.resolve(f.getFileName().toString()));
        }
        return to;
    }

    /** An int8 index: recorded in the manifest, searched and reopened at int8, and its vectors near fp32's. */
    @Test
    void int8IndexKeepsItsPrecision() throws Exception {
        Path images = IndexFixture.colourFolders(tmp.resolve("photos"), 4, 21);
        try (ImageIndex fp32 = build(images, tmp.resolve("fp32"));
             ImageIndex int8 = ImageIndex.build(IndexFixture.get().model(), IndexSource.of(images), tmp.resolve("int8"),
                     Precision.INT8, 8, IndexProgress.NONE)) {
            assertThat(int8.manifest().precision()).isEqualTo("int8");
            assertThat(int8.clip().model().isInt8()).isTrue();
            for (String colour : IndexFixture.COLOURS) {
                List<SearchHit> a = int8.search(colour, "a photo of a {}.", SearchOptions.top(1));
                List<SearchHit> e = fp32.search(colour, "a photo of a {}.", SearchOptions.top(1));
                assertThat(colourOf(a.get(0))).as("int8 top-1 for '%s'", colour).isEqualTo(colourOf(e.get(0)));
            }
        }
        try (ImageIndex reopened = ImageIndex.open(tmp.resolve("int8"))) {
            assertThat(reopened.clip().precision()).isEqualTo(Precision.INT8);
            assertThat(reopened.clip().model().isInt8()).isTrue();
        }
    }

    @Test
    void graphAndExactSearchAgree() throws Exception {
        Path images = IndexFixture.colourFolders(tmp.resolve("photos"), 10, 12);
        try (ImageIndex index = build(images, tmp.resolve("idx"))) {
            for (String colour : IndexFixture.COLOURS) {
                SearchOptions o = SearchOptions.top(5);
                List<SearchHit> exact = index.search(colour, o.withMethod(SearchOptions.Method.EXACT));
                List<SearchHit> graph = index.search(colour, o.withMethod(SearchOptions.Method.GRAPH));
                // 30 vectors: the graph holds them all, so its candidates rescored exactly are the exact answer
                assertThat(graph).isEqualTo(exact);
            }
        }
    }

    /**
     * A copy whose original was embedded in an earlier batch of the same build takes the original's vector back from
     * the store (the build keeps no vectors), as exactly as a copy within one batch does.
     */
    @Test
    void aCopyInALaterBatchTakesItsOriginalsVector() throws Exception {
        Path images = IndexFixture.colourFolders(tmp.resolve("photos"), 1, 17);
        Files.copy(images.resolve("blue/0.png"), images.resolve("red/z-copy-of-blue.png"));
        try (ImageIndex index = ImageIndex.build(IndexFixture.get().model(), IndexSource.of(images), tmp.resolve("idx"),
                Precision.FP32, 1, IndexProgress.NONE)) {
            assertThat(index.report().embedded()).isEqualTo(3);
            assertThat(index.report().reused()).as("the copy, three batches after its original").isEqualTo(1);
            String original = images.resolve("blue/0.png").toAbsolutePath().toString();
            List<SearchHit> two = index.searchLike(original, SearchOptions.top(2));
            assertThat(two).extracting(h -> Path.of(h.image().path()).getFileName().toString())
                    .containsExactlyInAnyOrder("0.png", "z-copy-of-blue.png");
            assertThat(two.get(1).score()).as("the same vector").isEqualTo(two.get(0).score());
        }
    }

    @Test
    void minScoreAndNearDuplicates() throws Exception {
        // one image per colour (cosines between colours are far from 1) and a byte-identical copy of the red one
        Path images = IndexFixture.colourFolders(tmp.resolve("photos"), 1, 13);
        Files.copy(images.resolve("red/0.png"), images.resolve("red/0-copy.png"));
        try (ImageIndex index = build(images, tmp.resolve("idx"))) {
            assertThat(index.report().reused()).as("the copy reuses its original's vector").isEqualTo(1);
            String original = images.resolve("red/0.png").toAbsolutePath().toString();
            List<SearchHit> all = index.searchLike(original, SearchOptions.top(4));
            assertThat(all.subList(0, 2)).extracting(h -> Path.of(h.image().path()).getFileName().toString())
                    .containsExactlyInAnyOrder("0.png", "0-copy.png");
            assertThat(all.get(2).score()).isLessThan(0.999f);
            List<SearchHit> collapsed = index.searchLike(original, SearchOptions.top(4).withDedup(0.999f));
            assertThat(collapsed).hasSize(3);
            assertThat(collapsed).extracting(h -> h.image().path()).filteredOn(n -> n.contains("/red/"))
                    .as("one of the two identical images stands for both").hasSize(1);
            assertThat(collapsed).extracting(SearchHit::rank).containsExactly(1, 2, 3);
            float cut = all.get(2).score();
            assertThat(index.searchLike(original, SearchOptions.top(4).withMinScore(cut))).allMatch(h -> h.score() >= cut).hasSize(3);
        }
    }

    @Test
    void updateEmbedsOnlyWhatChanged() throws Exception {
        Path images = IndexFixture.colourFolders(tmp.resolve("photos"), 4, 14);
        Path idx = tmp.resolve("idx");
        build(images, idx).close();
        Files.delete(images.resolve("blue/0.png"));                                              // removed
        Files.move(images.resolve("blue/1.png"), images.resolve("blue/renamed.png"));            // same bytes, new name
        Files.setLastModifiedTime(images.resolve("green/0.png"), FileTime.fromMillis(1_000_000)); // touched
        IndexFixture.write(IndexFixture.image(0, new Random(5)), images.resolve("red/new.png"));  // added
        IndexFixture.write(IndexFixture.image(1, new Random(6)), images.resolve("red/1.png"));    // content changed
        try (ImageIndex index = ImageIndex.update(idx, null, 8, IndexProgress.NONE)) {
            IndexReport r = index.report();
            assertThat(r.removed()).isEqualTo(2); // blue/0 and the old name of blue/1
            assertThat(r.reused()).isEqualTo(2);  // renamed and touched
            assertThat(r.embedded()).isEqualTo(2); // new and changed
            assertThat(r.unchanged()).isEqualTo(8);
            assertThat(index.size()).isEqualTo(12);
            assertThat(index.image(images.resolve("blue/0.png").toAbsolutePath().toString())).isNull();
            assertThat(index.image(images.resolve("blue/renamed.png").toAbsolutePath().toString())).isNotNull();
            String changed = images.resolve("red/1.png").toAbsolutePath().toString();
            assertThat(colourOf(index.searchLike(changed, SearchOptions.top(2)).get(1))).isEqualTo("green");
        }
        try (ImageIndex again = ImageIndex.update(idx, null, 8, IndexProgress.NONE)) {
            assertThat(again.report().unchanged()).isEqualTo(12);
            assertThat(again.report().embedded() + again.report().reused() + again.report().removed()).isZero();
        }
    }

    @Test
    void anInterruptedBuildContinuesWithoutEmbeddingAgain() throws Exception {
        Path images = IndexFixture.colourFolders(tmp.resolve("photos"), 8, 15);
        Path idx = tmp.resolve("idx");
        IndexProgress stopAfterTwoBatches = (done, total) -> {
            if (done >= 16) throw new dev.clip4j.io.StopSignal.Stopped("test");
        };
        assertThatThrownBy(() -> ImageIndex.build(IndexFixture.get().model(), IndexSource.of(images), idx, Precision.FP32, 8, stopAfterTwoBatches))
                .isInstanceOf(dev.clip4j.io.StopSignal.Stopped.class);
        try (ImageIndex partial = ImageIndex.open(idx)) {
            assertThat(partial.size()).isEqualTo(16);
        }
        try (ImageIndex index = build(images, idx)) {
            assertThat(index.report().embedded()).isEqualTo(8);
            assertThat(index.report().unchanged()).isEqualTo(16);
            assertThat(index.size()).isEqualTo(24);
        }
    }

    @Test
    void unreadableImagesAreSkippedAndListed() throws Exception {
        Path images = IndexFixture.colourFolders(tmp.resolve("photos"), 2, 16);
        Files.write(images.resolve("red/broken.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        Files.writeString(images.resolve("notes.txt"), "not an image name: never listed");
        try (ImageIndex index = build(images, tmp.resolve("idx"))) {
            assertThat(index.size()).isEqualTo(6);
            assertThat(index.report().skipped()).hasSize(1);
            assertThat(index.report().skipped().get(0).path()).endsWith("broken.png");
            assertThat(Files.readString(tmp.resolve("idx").resolve(IndexSync.SKIPPED_FILE))).contains("broken.png\t");
        }
    }

    @Test
    void mergesIndexesOfTheSameModel() throws Exception {
        Path a = IndexFixture.colourFolders(tmp.resolve("a"), 2, 17), b = IndexFixture.colourFolders(tmp.resolve("b"), 3, 18);
        build(a, tmp.resolve("ia")).close();
        build(b, tmp.resolve("ib")).close();
        IndexReport r = ImageIndex.merge(tmp.resolve("ia"), tmp.resolve("ib"), tmp.resolve("merged"));
        assertThat(r.size()).isEqualTo(15);
        try (ImageIndex m = ImageIndex.open(tmp.resolve("merged"))) {
            assertThat(m.size()).isEqualTo(15);
            assertThat(m.manifest().sources()).hasSize(2);
            assertThat(colourOf(m.search("blue", "a photo of a {}.", SearchOptions.top(1)).get(0))).isEqualTo("blue");
        }
        // and it updates from both sources
        Files.delete(a.resolve("red/0.png"));
        try (ImageIndex m = ImageIndex.update(tmp.resolve("merged"), null, 8, IndexProgress.NONE)) {
            assertThat(m.size()).isEqualTo(14);
        }
        assertThatThrownBy(() -> ImageIndex.merge(tmp.resolve("ia"), tmp.resolve("ib"), tmp.resolve("merged")))
                .hasMessageContaining("already exists");
        ImageIndex.build(IndexFixture.get().otherModel(), IndexSource.of(b), tmp.resolve("other"), Precision.FP32, 8, IndexProgress.NONE).close();
        assertThatThrownBy(() -> ImageIndex.merge(tmp.resolve("ia"), tmp.resolve("other"), tmp.resolve("m2")))
                .isInstanceOf(IndexException.class).hasMessageContaining("different models");
        assertThat(tmp.resolve("m2")).doesNotExist();
    }

    @Test
    void anotherModelIsRefused() throws Exception {
        Path images = IndexFixture.colourFolders(tmp.resolve("photos"), 1, 19);
        build(images, tmp.resolve("idx")).close();
        assertThatThrownBy(() -> ImageIndex.open(tmp.resolve("idx"), IndexFixture.get().otherModel()))
                .isInstanceOf(IndexException.class).hasMessageContaining("is a different model");
        assertThatThrownBy(() -> ImageIndex.build(IndexFixture.get().otherModel(), IndexSource.of(images), tmp.resolve("idx"),
                Precision.FP32, 8, IndexProgress.NONE)).hasMessageContaining("is a different model");
        assertThatThrownBy(() -> build(tmp.resolve("photos/red"), tmp.resolve("idx"))).hasMessageContaining("already an index of");
    }

    @Test
    void damagedAndHalfWrittenIndexesAreDetected() throws Exception {
        Path images = IndexFixture.colourFolders(tmp.resolve("photos"), 2, 20);
        Path idx = tmp.resolve("idx");
        build(images, idx).close();
        // flip one byte in the middle of the largest Lucene file
        Path biggest;
        try (var s = Files.list(idx.resolve(ImageIndex.STORE_DIR))) {
            biggest = s.filter(p -> !p.getFileName().toString().equals("write.lock"))
                    .max(java.util.Comparator.comparingLong(p -> p.toFile().length())).orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(biggest);
        bytes[bytes.length / 2] ^= 0x5a;
        Files.write(biggest, bytes);
        assertThatThrownBy(() -> ImageIndex.open(idx)).isInstanceOf(IndexException.class).hasMessageContaining("damaged");

        Path half = tmp.resolve("half");
        Files.createDirectories(half);
        Files.copy(idx.resolve(IndexManifest.FILE), half.resolve(IndexManifest.FILE));
        assertThatThrownBy(() -> ImageIndex.open(half)).isInstanceOf(IndexException.class).hasMessageContaining("no images committed yet");
        assertThatThrownBy(() -> ImageIndex.open(tmp.resolve("photos"))).hasMessageContaining("not a clip4j index");
        Files.writeString(half.resolve(IndexManifest.FILE), "{\"format\": \"clip4j-index/1\", \"model\": ");
        assertThatThrownBy(() -> ImageIndex.open(half)).hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> build(images, tmp.resolve("photos"))).hasMessageContaining("exists and is not an index");
    }

    @Test
    void aSecondWriterIsRefused() throws Exception {
        Path images = IndexFixture.colourFolders(tmp.resolve("photos"), 1, 21);
        Path idx = tmp.resolve("idx");
        build(images, idx).close();
        try (LuceneVectorStore writer = LuceneVectorStore.openForWriting(idx.resolve(ImageIndex.STORE_DIR), 16)) {
            assertThatThrownBy(() -> ImageIndex.update(idx, null, 8, IndexProgress.NONE))
                    .isInstanceOf(IndexException.class).hasMessageContaining("being written by another process");
            try (ImageIndex reader = ImageIndex.open(idx)) {
                assertThat(reader.size()).as("readers are not blocked by a writer").isEqualTo(3);
            }
        }
    }

    @Test
    void badSearchOptionsAreRefused() throws Exception {
        assertThatThrownBy(() -> SearchOptions.top(0)).hasMessageContaining("k = 0");
        assertThatThrownBy(() -> SearchOptions.top(-3)).hasMessageContaining("k = -3");
        assertThatThrownBy(() -> SearchOptions.top(SearchOptions.MAX_K + 1)).hasMessageContaining("expected 1 to");
        assertThatThrownBy(() -> SearchOptions.top(5).withDedup(1.5f)).hasMessageContaining("dedup");
        assertThatThrownBy(() -> SearchOptions.top(5).withMinScore(Float.NaN)).hasMessageContaining("min score");
        Path images = IndexFixture.colourFolders(tmp.resolve("photos"), 1, 22);
        try (ImageIndex index = build(images, tmp.resolve("idx"))) {
            assertThatThrownBy(() -> index.search(new float[3], SearchOptions.top(1))).hasMessageContaining("3 dimensions");
            assertThatThrownBy(() -> index.search(new float[16], SearchOptions.top(1))).hasMessageContaining("zeros");
            assertThatThrownBy(() -> index.search(" ", SearchOptions.top(1))).hasMessageContaining("empty text query");
            assertThatThrownBy(() -> index.searchLike("/etc/passwd", SearchOptions.top(1))).hasMessageContaining("not in the index");
        }
    }
}
