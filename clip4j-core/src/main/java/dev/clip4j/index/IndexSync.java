package dev.clip4j.index;

import dev.clip4j.Clip;
import dev.clip4j.image.ClipPreprocessor;
import dev.clip4j.image.ImageInput;
import dev.clip4j.image.RasterImage;
import dev.clip4j.io.AtomicFiles;
import dev.clip4j.io.InputLimits;
import dev.clip4j.io.Sha256;
import dev.clip4j.io.StopSignal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Brings a store in line with its sources: entries whose file is gone are removed, new or changed files are
 * embedded, and files whose bytes the store already holds (touched, renamed or copied) reuse the stored vector.
 * Changes are committed after every batch of embedded images, so an interrupted build or update keeps its work and a
 * re-run embeds only what is missing. Unreadable images are skipped and listed in {@code skipped.tsv}, never silently.
 */
final class IndexSync {
    static final String SKIPPED_FILE = "skipped.tsv";

    private IndexSync() {}

    /** An image waiting for the model, already resized and cropped to the model's input (so decoding it is exact and free). */
    private record Pending(IndexedImage image, RasterImage input) {}

    /**
     * A file after the loader: skipped ({@code skip} says why), or its entry with the model's input, or, when its bytes
     * did not decode, the decoder's message (used only if no stored vector has the same bytes).
     */
    private record Loaded(String path, String skip, IndexedImage image, RasterImage input, String decodeError) {}

    /** Reads, hashes and (unless the store already holds these bytes) decodes and resizes one file; runs on the loader. */
    private static Loaded load(ClipPreprocessor preprocessor, IndexSource.Entry entry, long size, long modified,
                               Map<String, String> storedHashes) {
        String path = entry.file().toString();
        long maxBytes = InputLimits.MAX_IMAGE_FILE_BYTES.get();
        if (size > maxBytes) return new Loaded(path, "larger than " + maxBytes + " bytes (" + InputLimits.MAX_IMAGE_FILE_BYTES.hint() + ")", null, null, null);
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(entry.file());
        } catch (IOException ex) {
            return new Loaded(path, "cannot read: " + ex.getClass().getSimpleName(), null, null, null);
        }
        IndexedImage image = new IndexedImage(path, bytes.length, modified, Sha256.hex(bytes), entry.caption());
        if (storedHashes.containsKey(image.sha256())) return new Loaded(path, null, image, null, null);
        try {
            return new Loaded(path, null, image, preprocessor.decodeResizeAndCrop(bytes, path).image(), null);
        } catch (RuntimeException ex) { // a hostile or broken file: the decoder's message names it
            return new Loaded(path, null, image, null, oneLine(ex.getMessage() == null ? ex.toString() : ex.getMessage(), path));
        }
    }

    private static Loaded await(java.util.concurrent.Future<Loaded> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StopSignal.Stopped("interrupted");
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error err) throw err;
            throw new IllegalStateException(e.getCause());
        }
    }

    static IndexReport run(Clip clip, VectorStore store, List<IndexSource> sources, int batchSize, Path reportDir, IndexProgress listener)
            throws IOException {
        return run(new Target(clip.preprocessor(), store.entries(), java.util.concurrent.CompletableFuture.completedFuture(clip),
                () -> store), sources, batchSize, reportDir, listener);
    }

    /**
     * What a sync embeds with and writes to. For a new index both may be on their way: the model loading on a thread
     * of its own while the first files are read and decoded ({@code index build}), the store opened (after the
     * manifest that names the model's fingerprint is written) when the first vectors are ready. {@code have} is what
     * the store holds already (nothing, for a new one); {@code store} is asked for once.
     */
    record Target(ClipPreprocessor preprocessor, Map<String, IndexedImage> have, java.util.concurrent.CompletableFuture<Clip> clip,
                  java.util.function.Supplier<VectorStore> store) {}

    /** Images a loader may have read and decoded ahead of the model, as a multiple of the usual window, while it loads. */
    private static final int AHEAD_WHILE_LOADING = 4;

    static IndexReport run(Target target, List<IndexSource> sources, int batchSize, Path reportDir, IndexProgress listener)
            throws IOException {
        List<IndexSource.Skipped> skipped = new ArrayList<>();
        Map<String, IndexSource.Entry> wanted = new LinkedHashMap<>();
        for (IndexSource s : sources) for (IndexSource.Entry e : s.list(skipped)) wanted.putIfAbsent(e.file().toString(), e);
        Map<String, IndexedImage> have = target.have();
        VectorStore[] opened = {null};
        java.util.function.Supplier<VectorStore> storeOnce = () -> opened[0] != null ? opened[0] : (opened[0] = target.store().get());
        // the model, waiting for it if it is still loading; its load's own exception if that failed
        java.util.function.Supplier<Clip> clip = () -> dev.clip4j.checkpoint.ClipCheckpoint.await(target.clip());
        // content hash -> an entry holding it, so a renamed, copied or touched file reuses its vector
        Map<String, String> pathByHash = new java.util.HashMap<>();
        for (IndexedImage i : have.values()) pathByHash.putIfAbsent(i.sha256(), i.path());
        // bytes embedded earlier in this run -> the first file that had them; their vector is read back from the store
        // (committed after every batch), so the run holds no vectors and its memory does not grow with the folder
        Map<String, String> newPathByHash = new java.util.HashMap<>();
        java.util.Set<String> pendingHashes = new java.util.HashSet<>();
        List<IndexedImage> followers = new ArrayList<>();
        record Changed(IndexSource.Entry entry, long size, long modified) {}
        List<Changed> changed = new ArrayList<>();
        int unchanged = 0;
        for (IndexSource.Entry e : wanted.values()) {
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(e.file(), BasicFileAttributes.class);
            } catch (IOException ex) {
                skipped.add(new IndexSource.Skipped(e.file().toString(), "cannot read: " + ex.getClass().getSimpleName()));
                continue;
            }
            IndexedImage old = have.get(e.file().toString());
            long modified = a.lastModifiedTime().toMillis();
            if (old != null && old.size() == a.size() && old.modified() == modified && old.caption().equals(e.caption())) unchanged++;
            else changed.add(new Changed(e, a.size(), modified));
        }

        // Reading, hashing, decoding and resizing run ahead of the model on loader threads (a bounded window), so
        // the CPU decodes the next batch while libtorch embeds this one; a pending image is held at the
        // model's input size, never at full size (32 decoded 20-megapixel photos would be ~2 GB).
        int embedded = 0, reused = 0, done = 0;
        List<Pending> batch = new ArrayList<>();
        listener.progress(0, changed.size());
        // one loader per core (LoaderThreads); results are taken in file order
        java.util.concurrent.ExecutorService loader = dev.clip4j.io.LoaderThreads.start("clip4j-index-loader");
        try {
            java.util.ArrayDeque<java.util.concurrent.Future<Loaded>> ahead = new java.util.ArrayDeque<>();
            int next = 0, window = Math.max(2, 2 * batchSize);
            ClipPreprocessor preprocessor = target.preprocessor();
            Map<String, String> storedHashes = java.util.Collections.unmodifiableMap(pathByHash);
            while (done < changed.size()) {
                while (next < changed.size() && ahead.size() < (target.clip().isDone() ? window : AHEAD_WHILE_LOADING * window)) {
                    Changed c = changed.get(next++);
                    ahead.add(loader.submit(() -> load(preprocessor, c.entry(), c.size(), c.modified(), storedHashes)));
                }
                StopSignal.check();
                Loaded l = await(ahead.poll());
                done++;
                if (l.skip() != null) {
                    skipped.add(new IndexSource.Skipped(l.path(), l.skip()));
                    continue;
                }
                IndexedImage image = l.image();
                String earlier = newPathByHash.getOrDefault(image.sha256(), pathByHash.get(image.sha256()));
                float[] known = earlier == null ? null : storeOnce.get().vector(earlier);
                if (known != null) {
                    storeOnce.get().put(image, known);
                    reused++;
                } else if (pendingHashes.contains(image.sha256())) {
                    followers.add(image); // the same bytes wait in this batch: they take its vector
                    reused++;
                } else if (l.input() == null) {
                    skipped.add(new IndexSource.Skipped(l.path(), l.decodeError()));
                } else {
                    batch.add(new Pending(image, l.input()));
                    pendingHashes.add(image.sha256());
                }
                if (batch.size() == batchSize) {
                    embedded += embed(clip.get(), storeOnce.get(), batch, newPathByHash, pendingHashes, followers);
                    listener.progress(done, changed.size());
                }
            }
        } finally {
            loader.shutdownNow();
        }
        if (!batch.isEmpty()) embedded += embed(clip.get(), storeOnce.get(), batch, newPathByHash, pendingHashes, followers);
        VectorStore store = storeOnce.get();
        // removals last: until here a renamed file could still take its vector from the entry of its old name
        int removed = 0;
        for (String path : have.keySet()) {
            if (!wanted.containsKey(path)) {
                store.remove(path);
                removed++;
            }
        }
        store.commit();
        listener.progress(changed.size(), changed.size());
        writeSkipped(reportDir, skipped);
        return new IndexReport(wanted.size(), embedded, reused, unchanged, removed, List.copyOf(skipped), store.size());
    }

    private static int embed(Clip clip, VectorStore store, List<Pending> batch, Map<String, String> newPathByHash,
                             java.util.Set<String> pendingHashes, List<IndexedImage> followers) {
        if (batch.isEmpty()) return 0;
        List<ImageInput> inputs = batch.stream().map(p -> new ImageInput(p.image().path(), p::input)).toList();
        float[][] vectors = clip.encode(inputs, true);
        Map<String, float[]> byHash = new java.util.HashMap<>();
        for (int i = 0; i < vectors.length; i++) {
            IndexedImage image = batch.get(i).image();
            store.put(image, vectors[i]);
            byHash.putIfAbsent(image.sha256(), vectors[i]);
            newPathByHash.putIfAbsent(image.sha256(), image.path());
        }
        for (IndexedImage f : followers) store.put(f, byHash.get(f.sha256()));
        followers.clear();
        pendingHashes.clear();
        store.commit();
        int n = batch.size();
        batch.clear();
        return n;
    }

    /** A decoder's message on one line, without the file's name in front (the row or list names the file). */
    static String oneLine(String message, String path) {
        String m = message.replace('\n', ' ').replace('\t', ' ');
        return m.startsWith(path + ": ") ? m.substring(path.length() + 2) : m;
    }

    static void writeSkipped(Path dir, List<IndexSource.Skipped> skipped) throws IOException {
        StringBuilder b = new StringBuilder("path\treason\n");
        for (IndexSource.Skipped s : skipped) {
            b.append(s.path().replace('\t', ' ')).append('\t').append(s.reason().replace('\t', ' ')).append('\n');
        }
        AtomicFiles.write(dir.resolve(SKIPPED_FILE), out -> out.write(b.toString().getBytes(StandardCharsets.UTF_8)));
    }
}
