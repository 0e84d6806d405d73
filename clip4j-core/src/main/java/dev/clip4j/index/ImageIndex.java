package dev.clip4j.index;

import dev.clip4j.Clip;
import dev.clip4j.Precision;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.data.DataFiles;
import dev.clip4j.image.ImageInput;
import dev.clip4j.model.ClipModel;
import dev.clip4j.model.Scoring;
import dev.clip4j.model.Towers;
import dev.clip4j.onnx.OnnxThreads;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A searchable index of images: their normalised CLIP image features in a {@link VectorStore} (Lucene's HNSW by
 * default) with each file's metadata, and the model that embedded them, so text and image queries go through the
 * same model. An index is a directory: {@code index.json} ({@link IndexManifest}), {@code lucene/} and
 * {@code skipped.tsv}.
 *
 * <p>A build or update embeds with the image tower alone (the text tower is never read: ~250 MB less for a ViT-B/32 in
 * float32); the index it returns loads the whole model, checked by its weights' hash, when a query first needs it.
 *
 * <pre>{@code
 * try (ImageIndex index = ImageIndex.build(Path.of("ViT-B-32.pt"), IndexSource.of(Path.of("photos")), Path.of("photos.index"),
 *                                          Precision.FP32, 32, IndexProgress.NONE)) {
 *     List<SearchHit> hits = index.search("a dog on a beach", SearchOptions.top(10));
 * }
 * }</pre>
 */
public final class ImageIndex implements AutoCloseable {
    static final String STORE_DIR = "lucene";
    private final Path dir;
    private final IndexManifest manifest;
    private final VectorStore store;
    /** The query model: null after a build or update until a query needs it (then loaded from {@link #model}). */
    private Clip clip;
    private final Path model;
    private final Map<String, IndexedImage> entries;
    private final IndexReport report;

    private ImageIndex(Path dir, IndexManifest manifest, VectorStore store, Clip clip, Path model, IndexReport report) {
        this.dir = dir;
        this.manifest = manifest;
        this.store = store;
        this.clip = clip;
        this.model = model;
        this.entries = Map.copyOf(store.entries());
        this.report = report;
    }

    /**
     * Builds the index of {@code source} at {@code dir}, or continues an interrupted build of the same source and
     * model there (nothing already committed is embedded again), then opens it.
     */
    public static ImageIndex build(Path modelPath, IndexSource source, Path dir, Precision precision, int batchSize, IndexProgress progress) {
        return build(modelPath, source, dir, precision, batchSize, progress, VectorStores.EMBEDDED);
    }

    /**
     * As {@link #build(Path, IndexSource, Path, Precision, int, IndexProgress)}, with the vectors in {@code store}: the
     * embedded Lucene index ({@link VectorStores#EMBEDDED}) or an external engine's location such as
     * {@code opensearch:http://127.0.0.1:9200/photos}. The directory still holds the manifest and the skipped list.
     */
    public static ImageIndex build(Path modelPath, IndexSource source, Path dir, Precision precision, int batchSize, IndexProgress progress,
                                   String store) {
        VectorStores.check(store);
        Path abs = dir.toAbsolutePath().normalize();
        if (!IndexManifest.exists(abs)) return buildNew(modelPath, source, abs, precision, batchSize, progress, store);
        // an interrupted build: the same model (its fingerprint) before anything else
        IndexManifest manifest = IndexManifest.read(abs);
        ClipCheckpoint.ForInference loaded = loadModel(modelPath, Precision.explicit(manifest.precision()), Towers.IMAGE);
        requireModel(abs, manifest, modelPath, loaded.fingerprint());
        if (!manifest.store().equals(store)) {
            throw new IndexException(abs + ": an index whose vectors are in " + manifest.store() + ", not " + store);
        }
        if (!manifest.sources().contains(source)) {
            throw new IndexException(abs + ": already an index of " + describe(manifest.sources())
                    + "; use index update for it, or build " + source.path() + " elsewhere and index merge the two");
        }
        Clip clip = photoFolderClip(loaded.model(), Precision.explicit(manifest.precision()));
        return sync(abs, manifest, clip, modelPath, batchSize, progress);
    }

    /**
     * A new index: the model loads on a thread of its own while the folder is listed and the first images are read and
     * decoded (its configuration, read first, has the input size and the vectors' dimension). The manifest, which
     * records the weights' fingerprint, is written when the first vectors are ready, and the store is created after it,
     * so an interrupted build leaves either an empty directory or an index that a new build resumes; a build that fails
     * before that removes the directory it made.
     */
    private static ImageIndex buildNew(Path modelPath, IndexSource source, Path abs, Precision precision, int batchSize,
                                       IndexProgress progress, String store) {
        if (batchSize < 1) throw new IndexException("batch size " + batchSize + ": expected at least 1");
        ClipCheckpoint.Opened opened = ClipCheckpoint.open(modelPath);
        java.util.concurrent.CompletableFuture<Clip> clip;
        int dim;
        boolean created;
        try {
            requirePooled(opened.scoring(), modelPath);
            dim = opened.config().embedDim();
            if (Files.exists(abs) && (!Files.isDirectory(abs) || nonEmpty(abs))) {
                throw new IndexException(abs + ": exists and is not an index; give a new or empty directory");
            }
            if (!VectorStores.EMBEDDED.equals(store)) VectorStores.open(abs, store, dim, true).close(); // reachable, and ours
            created = !Files.exists(abs);
            Files.createDirectories(abs);
        } catch (IOException e) {
            opened.close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            opened.close();
            throw e;
        }
        java.util.concurrent.CompletableFuture<ClipCheckpoint.ForInference> loading =
                ClipCheckpoint.loadingForInference(opened, modelPath.toString(), precision == Precision.INT8, true, Towers.IMAGE);
        clip = loading.thenApply(l -> photoFolderClip(l.model(), precision)); // on the loading thread
        IndexManifest[] manifest = {null};
        VectorStore[] opens = {null};
        // asked for once, when the first vectors are ready (or at the end): the manifest first, then the store
        java.util.function.Supplier<VectorStore> vectors = () -> {
            IndexManifest m = new IndexManifest(modelPath.toAbsolutePath().normalize().toString(), ClipCheckpoint.await(loading).fingerprint(), dim,
                    precision.name().toLowerCase(java.util.Locale.ROOT), List.of(source), store);
            try {
                m.write(abs);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            manifest[0] = m;
            return opens[0] = VectorStores.open(abs, store, dim, true);
        };
        IndexReport report;
        try {
            report = IndexSync.run(new IndexSync.Target(new dev.clip4j.image.ClipPreprocessor(opened.config().imageResolution()), Map.of(),
                    clip, vectors), List.of(source), batchSize, abs, progress);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (RuntimeException | Error e) {
            // nothing written yet (the manifest comes first): a directory this build made goes, as it would have had
            // the model been loaded before it was made
            if (created && manifest[0] == null) {
                try {
                    Files.deleteIfExists(abs);
                } catch (IOException ignored) {
                    // not empty after all, or gone: either way nothing of this build's is left in it
                }
            }
            throw e;
        } finally {
            if (opens[0] != null) opens[0].close();
            clip.whenComplete((c, e) -> { // now, or when a load still running ends (a build stopped early)
                if (c != null) c.close();
            });
        }
        return new ImageIndex(abs, manifest[0], VectorStores.open(abs, store, dim, false), null, modelPath, report);
    }

    /**
     * Builds a new index at {@code dir} from an embeddings file ({@link EmbeddingsFile}: {@code embed --images}'s JSON
     * lines, {@code spark-embed}'s Parquet) instead of running the model over the images again. Every row must come
     * from {@code modelPath}'s weights (its recorded fingerprint) and have the model's dimension; rows with an error are
     * listed in {@code skipped.tsv}. The index's source is {@code source}, or the folder that holds all the rows' files,
     * so that {@code index update} later embeds only what changed there (the rows' sizes and times are kept).
     */
    public static ImageIndex fromEmbeddings(Path modelPath, Path embeddings, Path dir, IndexSource source, IndexProgress progress) {
        Path abs = dir.toAbsolutePath().normalize();
        ClipCheckpoint.ForInference loaded = loadModel(modelPath, Precision.FP32, Towers.IMAGE);
        String sha = loaded.fingerprint();
        int dim = embedDim(loaded.model());
        try {
            if (Files.exists(abs) && (!Files.isDirectory(abs) || nonEmpty(abs))) {
                throw new IndexException(abs + ": exists and is not empty; give a new or empty directory");
            }
            List<IndexSource.Skipped> skipped = new ArrayList<>();
            Map<String, IndexedImage> seen = new HashMap<>();
            Path[] common = {null};
            Path tmp = abs.resolveSibling("." + abs.getFileName() + ".importing-" + ProcessHandle.current().pid());
            if (Files.exists(tmp)) DataFiles.deleteTree(tmp);
            Files.createDirectories(tmp);
            try {
                return importRows(modelPath, embeddings, abs, tmp, source, progress, sha, dim, skipped, seen, common);
            } catch (RuntimeException | IOException | Error e) {
                DataFiles.deleteTree(tmp); // a refused file leaves nothing behind
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ImageIndex importRows(Path modelPath, Path embeddings, Path abs, Path tmp, IndexSource source, IndexProgress progress,
                                         String sha, int dim, List<IndexSource.Skipped> skipped,
                                         Map<String, IndexedImage> seen, Path[] common) throws IOException {
        long[] rows = {0};
        try (LuceneVectorStore store = LuceneVectorStore.openForWriting(tmp.resolve(STORE_DIR), dim)) {
            EmbeddingsFile.forEach(embeddings, r -> {
                rows[0]++;
                if (!sha.equals(r.model())) {
                    throw new IndexException(embeddings + ": row " + rows[0] + " (" + r.path() + ") was embedded by another model"
                            + " (sha256 " + abbreviate(r.model()) + "…, not " + modelPath + "'s " + abbreviate(sha) + "…)");
                }
                Path file = Path.of(r.path()).toAbsolutePath().normalize();
                Path parent = file.getParent();
                common[0] = common[0] == null ? parent : commonAncestor(common[0], parent);
                if (r.error() != null || r.embedding() == null) {
                    skipped.add(new IndexSource.Skipped(file.toString(), r.error() == null ? "no embedding" : r.error()));
                    return;
                }
                if (r.embedding().length != dim) {
                    throw new IndexException(embeddings + ": row " + rows[0] + " has " + r.embedding().length
                            + " dimensions; the model's embeddings have " + dim);
                }
                for (float f : r.embedding()) {
                    if (!Float.isFinite(f)) throw new IndexException(embeddings + ": row " + rows[0] + " has a non-finite value");
                }
                IndexedImage image = new IndexedImage(file.toString(), r.size(), r.modified(), r.sha256(), "");
                if (seen.put(image.path(), image) == null) store.put(image, r.embedding());
                if (seen.size() % 1000 == 0) store.commit();
            });
            store.commit();
        }
        if (rows[0] == 0) throw new IndexException(embeddings + ": no rows");
        IndexSource src = source != null ? source : IndexSource.of(common[0]);
        IndexManifest manifest = new IndexManifest(modelPath.toAbsolutePath().normalize().toString(), sha, dim,
                Precision.FP32.name().toLowerCase(java.util.Locale.ROOT), List.of(src), VectorStores.EMBEDDED);
        manifest.write(tmp);
        IndexSync.writeSkipped(tmp, skipped);
        if (Files.isDirectory(abs)) Files.delete(abs); // the empty directory the user named
        Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
        progress.progress(seen.size(), seen.size());
        IndexReport report = new IndexReport((int) rows[0], 0, 0, seen.size(), 0, List.copyOf(skipped), seen.size());
        return new ImageIndex(abs, manifest, VectorStores.open(abs, manifest.store(), dim, false), null, modelPath, report);
    }

    private static String abbreviate(String sha) {
        return sha == null || sha.isEmpty() ? "unknown" : sha.substring(0, Math.min(12, sha.length()));
    }

    private static Path commonAncestor(Path a, Path b) {
        Path p = a;
        while (p != null && !b.startsWith(p)) p = p.getParent();
        return p == null ? a.getRoot() : p;
    }

    /** Walks the index's sources again: new and changed files are embedded, deleted ones removed; then opens it. */
    public static ImageIndex update(Path dir, Path model, int batchSize, IndexProgress progress) {
        Path abs = dir.toAbsolutePath().normalize();
        IndexManifest manifest = IndexManifest.read(abs);
        Path modelPath = modelPath(abs, manifest, model);
        Clip clip = clipFor(abs, manifest, modelPath, Towers.IMAGE, OnnxThreads.SLICES); // a photo folder's batches
        return sync(abs, manifest, clip, modelPath, batchSize, progress);
    }

    /** Embeds what changed with {@code clip} (the image tower alone), which is then closed; queries load the whole model. */
    private static ImageIndex sync(Path dir, IndexManifest manifest, Clip clip, Path modelPath, int batchSize, IndexProgress progress) {
        IndexReport report;
        try (clip) {
            if (batchSize < 1) throw new IndexException("batch size " + batchSize + ": expected at least 1");
            try (VectorStore store = VectorStores.open(dir, manifest.store(), manifest.dimension(), true)) {
                report = IndexSync.run(clip, store, manifest.sources(), batchSize, dir, progress);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return new ImageIndex(dir, manifest, VectorStores.open(dir, manifest.store(), manifest.dimension(), false), null, modelPath, report);
    }

    /** Opens an index with the model it was built with (from the path it records). */
    public static ImageIndex open(Path dir) {
        return open(dir, null);
    }

    /** Opens an index with {@code model} (null: the recorded path), which must be the model it was built with. */
    public static ImageIndex open(Path dir, Path model) {
        return open(dir, model, OnnxThreads.SPIN);
    }

    /**
     * As {@link #open(Path, Path)}, with how the query model's ONNX Runtime sessions use the cores: SPIN (the lowest
     * latency while queries come one at a time), SLEEP (for a service whose own threads keep the cores busy under many
     * concurrent queries) or SLICES (a service batching concurrent queries); {@link OnnxThreads}. Nothing changes on
     * libtorch.
     */
    public static ImageIndex open(Path dir, Path model, OnnxThreads threads) {
        return open(dir, model, threads, Towers.BOTH);
    }

    /**
     * As {@link #open(Path, Path, OnnxThreads)} for queries of one kind: {@link Towers#TEXT} for sentences only,
     * {@link Towers#IMAGE} for images only. The other tower is never read into memory (a ViT-B/32's image tower is
     * ~350 MB in float32), and a query of the other kind is refused, saying why. The model is still checked against
     * the index by the hash of all its weights.
     */
    public static ImageIndex open(Path dir, Path model, OnnxThreads threads, Towers queries) {
        Path abs = dir.toAbsolutePath().normalize();
        IndexManifest manifest = IndexManifest.read(abs);
        Path modelPath = modelPath(abs, manifest, model);
        Clip clip = clipFor(abs, manifest, modelPath, queries, threads);
        return new ImageIndex(abs, manifest, VectorStores.open(abs, manifest.store(), manifest.dimension(), false), clip, modelPath, null);
    }

    /**
     * Merges two indexes of the same model into a new one at {@code out} (written beside it and moved into place, so
     * {@code out} appears whole or not at all). A path in both keeps the entry of the newer file. The merged vectors are
     * in the embedded store, wherever the two indexes keep theirs.
     */
    public static IndexReport merge(Path a, Path b, Path out) {
        Path absA = a.toAbsolutePath().normalize(), absB = b.toAbsolutePath().normalize(), absOut = out.toAbsolutePath().normalize();
        IndexManifest ma = IndexManifest.read(absA), mb = IndexManifest.read(absB);
        if (!ma.modelSha256().equals(mb.modelSha256()) || ma.dimension() != mb.dimension()) {
            throw new IndexException(absA + " and " + absB + " were built with different models (" + ma.modelPath() + ", "
                    + mb.modelPath() + "); their vectors cannot be compared");
        }
        if (Files.exists(absOut)) throw new IndexException(absOut + ": already exists; merge into a new directory");
        Path tmp = absOut.resolveSibling("." + absOut.getFileName() + ".merging-" + ProcessHandle.current().pid());
        try {
            if (Files.exists(tmp)) DataFiles.deleteTree(tmp);
            Files.createDirectories(tmp);
            IndexManifest merged = ma.withSources(mb.sources()).withStore(VectorStores.EMBEDDED);
            merged.write(tmp);
            Map<String, IndexedImage> kept = new HashMap<>();
            long[] count = new long[1];
            try (LuceneVectorStore target = LuceneVectorStore.openForWriting(tmp.resolve(STORE_DIR), merged.dimension())) {
                for (Path src : List.of(absA, absB)) {
                    IndexManifest m = src.equals(absA) ? ma : mb;
                    try (VectorStore from = VectorStores.open(src, m.store(), merged.dimension(), false)) {
                        from.forEach((image, vector) -> {
                            IndexedImage old = kept.get(image.path());
                            if (old != null && old.modified() >= image.modified()) return;
                            kept.put(image.path(), image);
                            target.put(image, vector);
                        });
                    }
                }
                target.commit();
                count[0] = target.size();
            }
            Files.writeString(tmp.resolve(IndexSync.SKIPPED_FILE), "path\treason\n");
            Files.move(tmp, absOut, StandardCopyOption.ATOMIC_MOVE);
            return new IndexReport(kept.size(), 0, 0, kept.size(), 0, List.of(), count[0]);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            try {
                if (Files.exists(tmp)) DataFiles.deleteTree(tmp);
            } catch (IOException ignored) {
                // the leftover is named .NAME.merging-PID and is removed by the next merge to the same name
            }
        }
    }

    /** The model for inference at {@code precision} (int8 quantized as it loads) and its float weights' fingerprint. */
    private static ClipCheckpoint.ForInference loadModel(Path modelPath, Precision precision, Towers towers) {
        ClipCheckpoint.ForInference loaded = ClipCheckpoint.loadForInference(modelPath, precision == Precision.INT8, true, towers);
        requirePooled(loaded.model().scoring(), modelPath);
        return loaded;
    }

    private static void requirePooled(Scoring scoring, Path modelPath) {
        if (scoring == Scoring.TOKEN_WISE) {
            throw new IndexException(modelPath + ": this model scores image-text pairs token-wise (FILIP); an index holds one"
                    + " pooled vector per image, which such a model is not trained to compare");
        }
    }

    /**
     * A model for a photo folder's pipeline: batches, so ONNX Runtime runs each in slices, one thread each, and none
     * spins against the loader threads that decode beside it.
     */
    static Clip photoFolderClip(ClipModel model, Precision precision) {
        return Clip.handOver(model, precision, dev.clip4j.Backend.current(), OnnxThreads.SLICES);
    }

    /**
     * The index's model at {@code modelPath}, checked by weights hash, at the index's precision (the {@code towers} the work
     * needs), ONNX Runtime's sessions using the cores as {@code threads} says.
     */
    private static Clip clipFor(Path dir, IndexManifest manifest, Path modelPath, Towers towers, OnnxThreads threads) {
        Precision precision = Precision.explicit(manifest.precision());
        ClipCheckpoint.ForInference loaded = loadModel(modelPath, precision, towers);
        requireModel(dir, manifest, modelPath, loaded.fingerprint());
        return Clip.handOver(loaded.model(), precision, dev.clip4j.Backend.current(), threads);
    }

    private static int embedDim(ClipModel model) {
        return model.config().embedDim();
    }

    private static Path modelPath(Path dir, IndexManifest manifest, Path model) {
        if (model != null) return model;
        Path recorded = Path.of(manifest.modelPath());
        if (!Files.exists(recorded)) {
            throw new IndexException(dir + ": its model " + recorded + " is not there any more; give the model explicitly");
        }
        return recorded;
    }

    private static void requireModel(Path dir, IndexManifest manifest, Path modelPath, String sha) {
        if (!sha.equals(manifest.modelSha256())) {
            throw new IndexException(dir + " was built with the model " + manifest.modelPath() + " (sha256 "
                    + manifest.modelSha256().substring(0, 12) + "…); " + modelPath + " is a different model (sha256 "
                    + sha.substring(0, 12) + "…)");
        }
    }

    private static boolean nonEmpty(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.findAny().isPresent();
        }
    }

    private static String describe(List<IndexSource> sources) {
        return String.join(", ", sources.stream().map(s -> s.path().toString()).toList());
    }

    // ---- searching ----

    /** Images nearest to a sentence (through {@code template} when it is not null, e.g. "a photo of {}."). */
    public List<SearchHit> search(String text, String template, SearchOptions options) {
        if (text == null || text.isBlank()) throw new IndexException("an empty text query");
        String prompt = template == null ? text : Clip.prompts(template, List.of(text)).get(0);
        return search(clip().encodeTexts(List.of(prompt), true)[0], options);
    }

    public List<SearchHit> search(String text, SearchOptions options) {
        return search(text, null, options);
    }

    /** Images nearest to an image (a file, an upload's bytes, or a decoded image). */
    public List<SearchHit> search(ImageInput image, SearchOptions options) {
        return search(clip().encode(List.of(image), true)[0], options);
    }

    /** Images nearest to an image of the index, by its stored vector (nothing embedded again). */
    public List<SearchHit> searchLike(String path, SearchOptions options) {
        float[] v = store.vector(path);
        if (v == null) throw new IndexException(path + ": not in the index " + dir);
        return search(v, options);
    }

    /** Images nearest to a query vector (normalised here) of the index's dimension. */
    public List<SearchHit> search(float[] query, SearchOptions options) {
        if (query.length != manifest.dimension()) {
            throw new IndexException("a query vector of " + query.length + " dimensions; the index holds " + manifest.dimension());
        }
        double norm = 0;
        for (float x : query) {
            if (!Float.isFinite(x)) throw new IndexException("a query vector with a non-finite value");
            norm += (double) x * x;
        }
        if (norm == 0) throw new IndexException("a query vector of zeros");
        float[] q = new float[query.length];
        for (int i = 0; i < q.length; i++) q[i] = (float) (query[i] / Math.sqrt(norm));
        boolean exact = switch (options.method()) {
            case EXACT -> true;
            case GRAPH -> false;
            case AUTO -> store.size() < SearchOptions.EXACT_BELOW;
        };
        boolean dedup = !Float.isNaN(options.dedup());
        int want = dedup ? Math.max(options.k() * 4, options.candidates()) : options.candidates();
        List<VectorStore.Scored> found = store.nearest(q, exact && !dedup ? options.k() : want, exact);
        List<VectorStore.Scored> kept = new ArrayList<>();
        for (VectorStore.Scored s : found) if (s.score() >= options.minScore()) kept.add(s);
        kept = dedup ? NearDuplicates.collapse(kept, options.dedup(), options.k()) : kept.subList(0, Math.min(options.k(), kept.size()));
        List<SearchHit> hits = new ArrayList<>();
        for (int i = 0; i < kept.size(); i++) hits.add(new SearchHit(kept.get(i).image(), kept.get(i).score(), i + 1));
        return hits;
    }

    // ---- what the index holds ----

    public Path directory() {
        return dir;
    }

    public IndexManifest manifest() {
        return manifest;
    }

    /**
     * The model (and its preprocessing and tokenizer) that embedded the images and embeds queries; after a build or
     * update, loaded (and checked by its weights' hash) on this first call.
     */
    public synchronized Clip clip() {
        if (clip == null) clip = clipFor(dir, manifest, model, Towers.BOTH, OnnxThreads.SPIN);
        return clip;
    }

    /** Whether the query model is loaded (a build or update leaves it for the first query). */
    synchronized boolean queryModelLoaded() {
        return clip != null;
    }

    public long size() {
        return entries.size();
    }

    /** The entry of an indexed file, or null: only indexed files are ever served by path. */
    public IndexedImage image(String path) {
        return entries.get(path);
    }

    /** What the build or update that opened this index did (null when it was only opened). */
    public IndexReport report() {
        return report;
    }

    @Override
    public void close() {
        try {
            store.close();
        } finally {
            synchronized (this) {
                if (clip != null) clip.close();
            }
        }
    }
}
