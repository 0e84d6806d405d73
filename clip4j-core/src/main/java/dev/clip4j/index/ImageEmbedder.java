package dev.clip4j.index;

import dev.clip4j.Clip;
import dev.clip4j.image.ImageInput;
import dev.clip4j.io.InputLimits;
import dev.clip4j.io.Sha256;

import java.util.ArrayList;
import java.util.List;

/**
 * Embeds images given as bytes, a batch at a time, into {@link ImageEmbedding} rows: each image is decoded and resized
 * on its own (an unreadable one gets its error in its row and does not fail the batch), the rest go through the model
 * together, normalised. The one path of {@code embed --images} and the Spark job, so their vectors are the same.
 * Thread-safe.
 */
public final class ImageEmbedder {
    private final dev.clip4j.image.ClipPreprocessor preprocessor;
    /** The model and its fingerprint: loaded already, or loading on a thread of its own ({@link #loading}). */
    private final java.util.concurrent.CompletableFuture<Loaded> model;

    private record Loaded(Clip clip, String fingerprint) {}

    private ImageEmbedder(int resolution, java.util.concurrent.CompletableFuture<Loaded> model) {
        this.preprocessor = new dev.clip4j.image.ClipPreprocessor(resolution);
        this.model = model;
    }

    /** The model at {@code modelPath} (checkpoint, model or run directory) at {@code precision}. */
    public static ImageEmbedder load(java.nio.file.Path modelPath, dev.clip4j.Precision precision) {
        try (dev.clip4j.checkpoint.ClipCheckpoint.Opened o = dev.clip4j.checkpoint.ClipCheckpoint.open(modelPath)) {
            return new ImageEmbedder(o.config().imageResolution(),
                    java.util.concurrent.CompletableFuture.completedFuture(read(o, modelPath, precision)));
        }
    }

    /**
     * As {@link #load}, but returns once the checkpoint is opened (its configuration holds the image resolution: all
     * that {@link #prepare} needs) and reads the weights on a thread of its own, so that images are decoded and resized
     * while the model loads ({@code embed --images}: the first seconds of a run). {@link #finish} and
     * {@link #fingerprint} wait for the model; a checkpoint that fails to load fails them with its own error.
     */
    public static ImageEmbedder loading(java.nio.file.Path modelPath, dev.clip4j.Precision precision) {
        // opened once: the configuration now, the weights on the loading thread, which then closes it
        dev.clip4j.checkpoint.ClipCheckpoint.Opened opened = dev.clip4j.checkpoint.ClipCheckpoint.open(modelPath);
        java.util.concurrent.CompletableFuture<Loaded> model = dev.clip4j.checkpoint.ClipCheckpoint.loadingForInference(
                opened, modelPath.toString(), precision == dev.clip4j.Precision.INT8, true, dev.clip4j.model.Towers.IMAGE)
                .thenApply(loaded -> handOver(loaded, modelPath, precision)); // on the loading thread
        return new ImageEmbedder(opened.config().imageResolution(), model);
    }

    private static Loaded read(dev.clip4j.checkpoint.ClipCheckpoint.Opened opened, java.nio.file.Path modelPath, dev.clip4j.Precision precision) {
        // the image tower only, int8 quantized layer by layer as the checkpoint is read; the fingerprint is of all the
        // float32 weights, as the index records
        return handOver(dev.clip4j.checkpoint.ClipCheckpoint.loadForInference(
                opened, modelPath.toString(), precision == dev.clip4j.Precision.INT8, true, dev.clip4j.model.Towers.IMAGE), modelPath,
                precision);
    }

    private static Loaded handOver(dev.clip4j.checkpoint.ClipCheckpoint.ForInference loaded, java.nio.file.Path modelPath,
                                   dev.clip4j.Precision precision) {
        dev.clip4j.model.ClipModel m = loaded.model();
        if (m.isSingleStream()) throw new IndexException(modelPath + ": a single-stream pretraining model cannot embed images on their own");
        return new Loaded(ImageIndex.photoFolderClip(m, precision), loaded.fingerprint());
    }

    /** The model, waiting for it if it is still loading; its load's own exception if that failed. */
    private Loaded model() {
        return dev.clip4j.checkpoint.ClipCheckpoint.await(model);
    }

    /** Whether the model is loaded (never blocks). */
    public boolean ready() {
        return model.isDone();
    }

    /** The weights' SHA-256 recorded in every row (waits for the model). */
    public String fingerprint() {
        return model().fingerprint;
    }

    /** {@code rows} with this model's fingerprint (rows made before the model was loaded have none yet; waits for it). */
    public List<ImageEmbedding> stamped(List<ImageEmbedding> rows) {
        String fingerprint = fingerprint();
        List<ImageEmbedding> out = new ArrayList<>(rows.size());
        for (ImageEmbedding r : rows) {
            out.add(new ImageEmbedding(r.path(), r.embedding(), r.width(), r.height(), r.size(), r.modified(), r.sha256(), r.error(), fingerprint));
        }
        return out;
    }

    /** An image to embed: its name (path), bytes and modification time (0 if unknown). */
    public record Source(String path, byte[] bytes, long modified) {}

    /** {@link #prepare} then {@link #finish}: a batch's rows, in its order (errors name the file's problem). */
    public List<ImageEmbedding> embed(List<Source> batch) {
        return finish(prepare(batch));
    }

    /** A batch decoded and resized, its rows waiting for their vectors. */
    public static final class Prepared {
        private final List<ImageEmbedding> rows = new ArrayList<>();
        private final List<ImageInput> inputs = new ArrayList<>();
        private final List<Integer> at = new ArrayList<>();
    }

    /**
     * Hashes, decodes and resizes a batch without the model (which may still be loading): any number of threads may
     * prepare batches while another runs {@link #finish} (the pipelined {@code embed --images}). The rows get the
     * model's fingerprint in {@link #finish}.
     */
    public Prepared prepare(List<Source> batch) {
        Prepared p = new Prepared();
        long maxBytes = InputLimits.MAX_IMAGE_FILE_BYTES.get();
        for (Source s : batch) {
            String hash = Sha256.hex(s.bytes());
            if (s.bytes().length > maxBytes) {
                p.rows.add(new ImageEmbedding(s.path(), null, 0, 0, s.bytes().length, s.modified(), hash,
                        "larger than " + maxBytes + " bytes (" + InputLimits.MAX_IMAGE_FILE_BYTES.hint() + ")", null));
                continue;
            }
            try {
                // the full-size pixels never enter the Java heap where OpenCV decodes (ClipPreprocessor's javadoc)
                dev.clip4j.image.ClipPreprocessor.Resized r = preprocessor.decodeResizeAndCrop(s.bytes(), s.path());
                p.at.add(p.rows.size());
                p.inputs.add(new ImageInput(s.path(), r::image));
                p.rows.add(new ImageEmbedding(s.path(), null, r.width(), r.height(), s.bytes().length, s.modified(), hash, null, null));
            } catch (RuntimeException e) { // a hostile or broken file: the decoder's message names the problem
                String m = IndexSync.oneLine(e.getMessage() == null ? e.toString() : e.getMessage(), s.path());
                p.rows.add(new ImageEmbedding(s.path(), null, 0, 0, s.bytes().length, s.modified(), hash, m, null));
            }
        }
        return p;
    }

    /** Runs the model on a prepared batch: its rows with their normalised vectors. */
    public List<ImageEmbedding> finish(Prepared p) {
        Loaded m = model();
        List<ImageEmbedding> rows = stamped(p.rows);
        if (!p.inputs.isEmpty()) {
            float[][] vectors;
            // decoding runs on every calling thread (Spark's tasks); the model runs one batch at a time, on all of
            // libtorch's threads, so tasks sharing a JVM never oversubscribe the cores
            synchronized (m.clip) {
                vectors = m.clip.encode(p.inputs, true);
            }
            for (int i = 0; i < vectors.length; i++) {
                ImageEmbedding r = rows.get(p.at.get(i));
                rows.set(p.at.get(i), new ImageEmbedding(r.path(), vectors[i], r.width(), r.height(), r.size(), r.modified(), r.sha256(), null, m.fingerprint));
            }
        }
        return rows;
    }
}
