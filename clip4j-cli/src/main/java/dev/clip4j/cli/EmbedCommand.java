package dev.clip4j.cli;

import dev.clip4j.Clip;
import dev.clip4j.io.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "embed", description = "Write image and text features (encode_image / encode_text) as JSON; with --images"
        + " DIR, one JSON line per image of the folder (the embeddings file index build --embeddings reads).")
final class EmbedCommand implements Callable<Integer> {
    @Mixin
    CommonOptions.Model model;

    @Option(names = "--image", description = "Image file (repeatable).")
    List<Path> images = new ArrayList<>();

    @Option(names = "--text", description = "Text (repeatable).")
    List<String> texts = new ArrayList<>();

    @Option(names = "--images", description = "A folder of images (recursively): one JSON line per image, normalised (path, "
            + "embedding, width, height, size, modified, sha256, error, model); unreadable images get their error.")
    Path folder;

    @Option(names = "--shard", description = "With --images: only shard i of n (0-based, every n-th image in sorted order),"
            + " to split a folder over processes or machines, e.g. 0/4.")
    String shard;

    @Option(names = "--normalize", description = "L2-normalise the features.")
    boolean normalize;

    @Mixin
    CommonOptions.Threads threads;

    @Mixin
    CommonOptions.InferenceBackend backend;

    @Mixin
    CommonOptions.InferencePrecision precision;

    @Option(names = {"--batch-size", "--batch"}, defaultValue = "32", description = "Images or texts per forward pass (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--output", description = "Write the JSON here (atomically) instead of stdout.")
    Path output;

    @Override
    public Integer call() throws Exception {
        if (folder != null) return embedFolder();
        if (shard != null) throw new UserError("--shard splits a folder: give --images DIR");
        if (images.isEmpty() && texts.isEmpty()) throw new UserError("nothing to embed: give --image and/or --text");
        Options.batchSize(batch);
        threads.apply();
        backend.apply(images.size(), texts.size(), precision);
        // images alone never read the text tower (a ViT-B/32's ~250 MB in float32), texts alone the image tower (~350 MB)
        dev.clip4j.onnx.OnnxThreads onnxThreads = CommonOptions.onnxThreads(images.size(), texts.size());
        Clip clip = texts.isEmpty() ? Clip.loadForImages(model.model, precision.get(), onnxThreads)
                : images.isEmpty() ? Clip.loadForTexts(model.model, precision.get(), onnxThreads)
                : Clip.load(model.model, precision.get(), dev.clip4j.Backend.current(), onnxThreads);
        List<float[]> imageFeatures = new ArrayList<>();
        for (int i = 0; i < images.size(); i += batch) {
            dev.clip4j.io.StopSignal.check();
            imageFeatures.addAll(List.of(clip.encodeImages(images.subList(i, Math.min(images.size(), i + batch)), normalize)));
        }
        List<float[]> textFeatures = new ArrayList<>();
        for (int i = 0; i < texts.size(); i += batch) {
            dev.clip4j.io.StopSignal.check();
            textFeatures.addAll(List.of(clip.encodeTexts(texts.subList(i, Math.min(texts.size(), i + batch)), normalize)));
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("image_features", imageFeatures);
        result.put("text_features", textFeatures);
        String json = Json.write(result);
        if (output != null) AtomicFiles.writeString(output, json + "\n");
        else System.out.println(json);
        return 0;
    }

    /** {@code --images DIR [--shard i/n]}: the folder's images (this shard's) as embedding rows, in sorted order. */
    private int embedFolder() throws java.io.IOException {
        if (!images.isEmpty() || !texts.isEmpty()) throw new UserError("--images DIR embeds a folder; give --image/--text separately");
        int[] part = shard == null ? new int[] {0, 1} : parseShard(shard);
        Options.batchSize(batch);
        threads.apply();
        if (!java.nio.file.Files.isDirectory(folder)) throw new UserError(folder + ": not a folder");
        List<dev.clip4j.index.IndexSource.Skipped> skipped = new ArrayList<>();
        List<dev.clip4j.index.IndexSource.Entry> all = dev.clip4j.index.IndexSource.of(folder).list(skipped);
        backend.apply((all.size() + part[1] - 1 - part[0]) / part[1], precision); // this shard's images
        // the weights load on a thread of their own while the loaders below decode the first batches
        dev.clip4j.index.ImageEmbedder embedder = dev.clip4j.index.ImageEmbedder.loading(model.model, precision.get());
        long[] counts = new long[2]; // rows written, errors among them
        // rows go out batch by batch as the model finishes them (to --output's temporary file, renamed at the end), so
        // memory stays the same whatever the folder's size
        if (output != null) {
            AtomicFiles.write(output, out -> embedFolder(all, skipped, part, embedder, out, counts));
        } else {
            embedFolder(all, skipped, part, embedder, System.out, counts);
            System.out.flush();
        }
        long errors = counts[1], done = counts[0] - errors;
        System.err.println("clip4j: embedded " + done + " image" + (done == 1 ? "" : "s")
                + (errors > 0 ? ", " + errors + " unreadable (their rows say why)" : "")
                + (shard != null ? " (shard " + part[0] + "/" + part[1] + " of " + all.size() + ")" : ""));
        return 0;
    }

    private void embedFolder(List<dev.clip4j.index.IndexSource.Entry> all, List<dev.clip4j.index.IndexSource.Skipped> skipped,
                             int[] part, dev.clip4j.index.ImageEmbedder embedder, java.io.OutputStream out, long[] counts)
            throws java.io.IOException {
        // skipped files' rows come first, stamped with the model's fingerprint once it is loaded
        List<dev.clip4j.index.ImageEmbedding> pending = new ArrayList<>();
        for (dev.clip4j.index.IndexSource.Skipped k : skipped) {
            if (Math.floorMod(k.path().hashCode(), part[1]) == part[0]) {
                pending.add(new dev.clip4j.index.ImageEmbedding(k.path(), null, 0, 0, 0, 0, "", k.reason(), null));
            }
        }
        List<List<Path>> batches = new ArrayList<>();
        for (int i = part[0]; i < all.size(); i += part[1]) {
            if (batches.isEmpty() || batches.get(batches.size() - 1).size() == batch) batches.add(new ArrayList<>());
            batches.get(batches.size() - 1).add(all.get(i).file());
        }
        // Pipelined: loader threads (one per core) read, decode and resize the next batches while the model embeds
        // this one, a bounded window ahead so memory stays at a few batches (more while the model is still loading:
        // a prepared batch holds only its 224-pixel crops); rows come out in file order.
        int loaders = dev.clip4j.io.LoaderThreads.count();
        java.util.concurrent.ExecutorService pool = dev.clip4j.io.LoaderThreads.start("clip4j-embed-loader");
        try {
            java.util.ArrayDeque<java.util.concurrent.Future<Loaded>> ahead = new java.util.ArrayDeque<>();
            int next = 0;
            while (next < batches.size() || !ahead.isEmpty()) {
                while (next < batches.size() && ahead.size() <= (embedder.ready() ? loaders : AHEAD_WHILE_LOADING * loaders)) {
                    List<Path> files = batches.get(next++);
                    ahead.add(pool.submit(() -> load(files, embedder)));
                }
                dev.clip4j.io.StopSignal.check();
                Loaded l = waitFor(ahead.poll());
                List<dev.clip4j.index.ImageEmbedding> finished = embedder.finish(l.prepared()); // waits for the model
                List<dev.clip4j.index.ImageEmbedding> done = new ArrayList<>(embedder.stamped(pending));
                pending.clear();
                done.addAll(embedder.stamped(l.unreadable()));
                done.addAll(finished);
                write(done, out, counts);
            }
            write(embedder.stamped(pending), out, counts); // a folder of skipped files only
        } finally {
            pool.shutdownNow();
        }
    }

    private static void write(List<dev.clip4j.index.ImageEmbedding> rows, java.io.OutputStream out, long[] counts) throws java.io.IOException {
        dev.clip4j.index.EmbeddingsFile.writeJsonLines(out, rows);
        counts[0] += rows.size();
        counts[1] += rows.stream().filter(r -> r.error() != null).count();
    }

    /** Batches a loader may prepare ahead per loader thread while the model is still loading (then 1). */
    private static final int AHEAD_WHILE_LOADING = 4;

    /** A batch after the loader: rows for files that could not be read, and the rest decoded and resized. */
    private record Loaded(List<dev.clip4j.index.ImageEmbedding> unreadable, dev.clip4j.index.ImageEmbedder.Prepared prepared) {}

    private static Loaded load(List<Path> files, dev.clip4j.index.ImageEmbedder embedder) {
        List<dev.clip4j.index.ImageEmbedding> unreadable = new ArrayList<>();
        List<dev.clip4j.index.ImageEmbedder.Source> sources = new ArrayList<>();
        for (Path f : files) {
            try {
                sources.add(new dev.clip4j.index.ImageEmbedder.Source(f.toString(), readLimited(f),
                        java.nio.file.Files.getLastModifiedTime(f).toMillis()));
            } catch (java.io.IOException | dev.clip4j.InputException e) {
                unreadable.add(new dev.clip4j.index.ImageEmbedding(f.toString(), null, 0, 0, 0, 0, "", "cannot read: " + e.getMessage(),
                        null)); // stamped with the model's fingerprint when written
            }
        }
        return new Loaded(unreadable, embedder.prepare(sources));
    }

    private static Loaded waitFor(java.util.concurrent.Future<Loaded> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new dev.clip4j.io.StopSignal.Stopped("interrupt");
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            if (e.getCause() instanceof Error err) throw err;
            throw new IllegalStateException(e.getCause());
        }
    }

    private static byte[] readLimited(Path f) throws java.io.IOException {
        long max = dev.clip4j.io.InputLimits.MAX_IMAGE_FILE_BYTES.get();
        if (java.nio.file.Files.size(f) > max) {
            throw new dev.clip4j.InputException("larger than " + max + " bytes (" + dev.clip4j.io.InputLimits.MAX_IMAGE_FILE_BYTES.hint() + ")");
        }
        return java.nio.file.Files.readAllBytes(f);
    }

    /** {@code i/n} with 0 <= i < n <= 100000. */
    static int[] parseShard(String s) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,6})/(\\d{1,6})").matcher(s.trim());
        if (!m.matches()) throw new UserError("--shard must be i/n (e.g. 0/4), got '" + s + "'");
        int i = Integer.parseInt(m.group(1)), n = Integer.parseInt(m.group(2));
        if (n < 1 || n > 100000 || i >= n) throw new UserError("--shard " + s + ": need 0 <= i < n <= 100000");
        return new int[] {i, n};
    }
}
