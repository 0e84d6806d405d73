package dev.clip4j.index;

import dev.clip4j.Clip;
import dev.clip4j.image.ImageDecoder;
import dev.clip4j.image.ImageInput;
import dev.clip4j.image.RasterImage;
import dev.clip4j.io.AtomicFiles;
import dev.clip4j.io.InputLimits;
import dev.clip4j.io.StopSignal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
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

    private record Pending(IndexedImage image, RasterImage raster) {}

    static IndexReport run(Clip clip, VectorStore store, List<IndexSource> sources, int batchSize, Path reportDir, IndexProgress listener)
            throws IOException {
        List<IndexSource.Skipped> skipped = new ArrayList<>();
        Map<String, IndexSource.Entry> wanted = new LinkedHashMap<>();
        for (IndexSource s : sources) for (IndexSource.Entry e : s.list(skipped)) wanted.putIfAbsent(e.file().toString(), e);
        Map<String, IndexedImage> have = store.entries();
        // content hash -> an entry holding it, so a renamed, copied or touched file reuses its vector
        Map<String, String> pathByHash = new java.util.HashMap<>();
        for (IndexedImage i : have.values()) pathByHash.putIfAbsent(i.sha256(), i.path());
        Map<String, float[]> newByHash = new java.util.HashMap<>();
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

        long maxBytes = InputLimits.MAX_IMAGE_FILE_BYTES.get();
        int embedded = 0, reused = 0, done = 0;
        List<Pending> batch = new ArrayList<>();
        listener.progress(0, changed.size());
        for (Changed c : changed) {
            StopSignal.check();
            String path = c.entry().file().toString();
            done++;
            if (c.size() > maxBytes) {
                skipped.add(new IndexSource.Skipped(path, "larger than " + maxBytes + " bytes (" + InputLimits.MAX_IMAGE_FILE_BYTES.hint() + ")"));
                continue;
            }
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(c.entry().file());
            } catch (IOException ex) {
                skipped.add(new IndexSource.Skipped(path, "cannot read: " + ex.getClass().getSimpleName()));
                continue;
            }
            IndexedImage image = new IndexedImage(path, bytes.length, c.modified(), sha256(bytes), c.entry().caption());
            float[] known = newByHash.get(image.sha256());
            if (known == null && pathByHash.containsKey(image.sha256())) known = store.vector(pathByHash.get(image.sha256()));
            if (known != null) {
                store.put(image, known);
                reused++;
            } else if (pendingHashes.contains(image.sha256())) {
                followers.add(image); // the same bytes wait in this batch: they take its vector
                reused++;
            } else {
                try {
                    batch.add(new Pending(image, ImageDecoder.decode(bytes, path)));
                    pendingHashes.add(image.sha256());
                } catch (RuntimeException ex) { // a hostile or broken file: the decoder's message names it
                    skipped.add(new IndexSource.Skipped(path, oneLine(ex.getMessage() == null ? ex.toString() : ex.getMessage(), path)));
                }
            }
            if (batch.size() == batchSize) {
                embedded += embed(clip, store, batch, newByHash, pendingHashes, followers);
                listener.progress(done, changed.size());
            }
        }
        embedded += embed(clip, store, batch, newByHash, pendingHashes, followers);
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

    private static int embed(Clip clip, VectorStore store, List<Pending> batch, Map<String, float[]> newByHash,
                             java.util.Set<String> pendingHashes, List<IndexedImage> followers) {
        if (batch.isEmpty()) return 0;
        List<ImageInput> inputs = batch.stream().map(p -> new ImageInput(p.image().path(), p::raster)).toList();
        float[][] vectors = clip.encode(inputs, true);
        for (int i = 0; i < vectors.length; i++) {
            store.put(batch.get(i).image(), vectors[i]);
            newByHash.putIfAbsent(batch.get(i).image().sha256(), vectors[i]);
        }
        for (IndexedImage f : followers) store.put(f, newByHash.get(f.sha256()));
        followers.clear();
        pendingHashes.clear();
        store.commit();
        int n = batch.size();
        batch.clear();
        return n;
    }

    private static String oneLine(String message, String path) {
        String m = message.replace('\n', ' ').replace('\t', ' ');
        return m.startsWith(path + ": ") ? m.substring(path.length() + 2) : m;
    }

    private static void writeSkipped(Path dir, List<IndexSource.Skipped> skipped) throws IOException {
        StringBuilder b = new StringBuilder("path\treason\n");
        for (IndexSource.Skipped s : skipped) b.append(s.path().replace('\t', ' ')).append('\t').append(s.reason()).append('\n');
        AtomicFiles.write(dir.resolve(SKIPPED_FILE), out -> out.write(b.toString().getBytes(StandardCharsets.UTF_8)));
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
