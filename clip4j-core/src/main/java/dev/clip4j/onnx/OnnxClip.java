package dev.clip4j.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.clip4j.model.ClipModel;
import dev.clip4j.model.Scoring;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Tensors;
import dev.clip4j.torch.Torch;
import org.bytedeco.pytorch.Tensor;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * A CLIP model's two towers on ONNX Runtime: the inference backend of {@code --backend onnx}. clip4j writes each
 * tower's graph from its own modules ({@code onnx(graph, x)} beside each forward, {@link OnnxGraph}) with the loaded
 * weights, and ONNX Runtime's CPU kernels run it (MLAS GEMMs, fused LayerNorm and QuickGELU), on as many threads as
 * libtorch uses. Float32, or int8 ({@link dev.clip4j.model.ClipModel#toInt8}: its linear layers as ONNX Runtime's
 * DynamicQuantizeMatMul); evaluation mode; the pooled features of {@code encode_image} and {@code encode_text}.
 * Each tower's session is made on its first use (1.1–2.1 s for a ViT-B/32 tower), so image-only work (an index build)
 * never holds the text tower's packed weights, nor a text query the image tower's. The sessions read the model's
 * weights in place and pack the GEMM weights when made: the model must not change afterwards (it is handed over).
 * Thread-safe (ONNX Runtime sessions are; making them is synchronised). Close it to free the sessions.
 */
public final class OnnxClip implements dev.clip4j.model.FeatureEncoder, AutoCloseable {
    static {
        OnnxNatives.use();
    }

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final ClipModel model;
    /** Whether the model was handed over: each tower's libtorch weights are freed once its session owns a copy. */
    private final boolean owning;
    /** How the sessions use the cores: T threads on each operator, or batches in slices ({@link OnnxThreads}). */
    private final OnnxThreads threads;
    private final int resolution, contextLength, embedDim;
    private OnnxSession image, text; // made on first use, under this object's lock
    private boolean closed;
    /** Runs hold it shared, {@link #close} exclusively: a session is never freed under a run in flight (a native crash). */
    private final java.util.concurrent.locks.ReadWriteLock inUse = new java.util.concurrent.locks.ReentrantReadWriteLock();

    private OnnxClip(ClipModel model, boolean owning, OnnxThreads threads) {
        this.model = model;
        this.owning = owning;
        this.threads = threads;
        this.resolution = model.imageResolution();
        this.contextLength = model.contextLength();
        this.embedDim = model.config().embedDim();
    }

    /**
     * Why {@code model} cannot run on this backend, or null if it can: a single-stream pretraining model, a model
     * scored token-wise, a bidirectional text tower (a fusion encoder's) or a model neither float32 nor int8 (bf16).
     */
    public static String unsupported(ClipModel model) {
        if (model.isSingleStream()) return "a single-stream pretraining model has no separate towers";
        if (model.scoring() == Scoring.TOKEN_WISE) return "a model scored token-wise (FILIP) needs every token's features";
        if (model.text().bidirectional()) return "its text tower is bidirectional (a fusion model's), not CLIP's causal one";
        if (Tensors.dtype(model.text().tokenEmbedding().weight()) != DType.F32) return "the model is neither float32 nor int8";
        return null;
    }

    /**
     * Both towers of {@code model} (float32 or int8, any training mode: the graphs are the evaluation forward), each
     * made on first use, reading the model's weights in place: the model stays whole for its other users.
     */
    public static OnnxClip of(ClipModel model) {
        return checked(model, false, OnnxThreads.SPIN);
    }

    /**
     * As {@link #of} for a model handed over to this backend, which nobody runs on libtorch afterwards: each tower's
     * session takes a copy of its own ({@link OnnxSession#owning}, which keeps only the packed GEMM weights) and the
     * model's tower is then freed ({@link ClipModel#releaseTower}), so the weights are in memory once, not twice (a
     * ViT-B/32 image tower: ~350 MB less in float32, ~90 MB in int8, twice that where int8 goes in as uint8).
     */
    public static OnnxClip handOver(ClipModel model) {
        return handOver(model, OnnxThreads.SPIN);
    }

    /** As {@link #handOver(ClipModel)}, the sessions using the cores as {@code threads} says. */
    public static OnnxClip handOver(ClipModel model, OnnxThreads threads) {
        return checked(model, true, threads);
    }

    /** How the sessions use the cores. */
    public OnnxThreads onnxThreads() {
        return threads;
    }

    private static OnnxClip checked(ClipModel model, boolean owning, OnnxThreads threads) {
        String why = unsupported(model);
        if (why != null) throw new IllegalArgumentException("the onnx backend cannot run this model: " + why);
        return new OnnxClip(model, owning, threads);
    }

    private synchronized OnnxSession imageTower() {
        if (closed) throw new IllegalStateException("this OnnxClip is closed");
        if (image == null) {
            model.requireImage();
            image = session(imageGraph(model), () -> model.releaseTower(true, HANDED_OVER.formatted("image")));
        }
        return image;
    }

    private synchronized OnnxSession textTower() {
        if (closed) throw new IllegalStateException("this OnnxClip is closed");
        if (text == null) {
            model.requireText();
            text = session(textGraph(model), () -> model.releaseTower(false, HANDED_OVER.formatted("text")));
        }
        return text;
    }

    private synchronized void requireTextTower() {
        if (text == null) model.requireText(); // once the session is made, the model's text weights may be gone
    }

    private static final String HANDED_OVER = "this model's %s tower was handed to ONNX Runtime (the onnx backend runs it "
            + "from a packed copy of its own and its libtorch weights were freed); load the checkpoint again to run it on libtorch";

    /** The session of {@code g}: owning its weights, the model's copy freed ({@code release}), for a handed-over model. */
    private OnnxSession session(OnnxGraph g, Runnable release) {
        return owning ? OnnxSession.owning(g, release, threads) : OnnxSession.of(g, threads);
    }

    /** The image tower's graph: {@code images} [B, 3, R, R] → {@code features} [B, embed_dim]. */
    static OnnxGraph imageGraph(ClipModel model) {
        return imageGraph(model, !dev.clip4j.torch.QuantizedLinear.reducedRange());
    }

    /** As {@link #imageGraph(ClipModel)} with int8 weights as int8 ({@code signedWeights}) or uint8 (tests run both). */
    static OnnxGraph imageGraph(ClipModel model, boolean signedWeights) {
        OnnxGraph g = new OnnxGraph("clip4j_image", signedWeights);
        int r = model.imageResolution();
        String images = g.input("images", false, "batch", 3L, (long) r, (long) r);
        g.output(model.visual().onnx(g, images), "features", "batch", (long) model.config().embedDim());
        return g;
    }

    /**
     * The text tower's graph: {@code tokens} [B, L] int64 (L up to the context length) with the end-of-text positions
     * given as {@code eot} [B] and {@code flat_eot} [B] (b·L + eot) → {@code features} [B, embed_dim].
     */
    static OnnxGraph textGraph(ClipModel model) {
        OnnxGraph g = new OnnxGraph("clip4j_text");
        String tokens = g.input("tokens", true, "batch", "length");
        String eot = g.input("eot", true, "batch");
        String flat = g.input("flat_eot", true, "batch");
        g.output(model.text().onnx(g, tokens, eot, flat), "features", "batch", (long) model.config().embedDim());
        return g;
    }

    /** {@code encode_image}: preprocessed images [B, 3, R, R] (float32) → features [B, embed_dim] float32. */
    @Override
    public Tensor encodeImage(Tensor images) {
        long[] shape = Tensors.shape(images);
        if (shape.length != 4 || shape[1] != 3 || shape[2] != resolution || shape[3] != resolution) {
            throw new IllegalArgumentException("images must be [B, 3, " + resolution + ", " + resolution + "], got "
                    + java.util.Arrays.toString(shape));
        }
        Tensor c = Tensors.to(images, DType.F32).contiguous();
        if (shape[0] == 0) return Tensors.zeros(DType.F32, 0, embedDim);
        // a direct buffer over the tensor's memory: ONNX Runtime reads it in place, each slice its own rows
        FloatBuffer pixels = Tensors.floatBuffer(c);
        int perImage = 3 * resolution * resolution;
        try {
            return sliced(this::imageTower, shape[0], (tower, from, to) -> {
                try (OnnxTensor in = OnnxTensor.createTensor(env, pixels.slice(from * perImage, (to - from) * perImage),
                        new long[] {to - from, 3, resolution, resolution})) {
                    return tower.values(Map.of("images", in));
                }
            });
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed on the image tower: " + e.getMessage(), e);
        }
    }

    /** {@code encode_text}: tokens [B, context length] int64 (end-of-text the highest id per row) → [B, embed_dim]. */
    @Override
    public Tensor encodeText(Tensor tokens) {
        requireTextTower(); // a model loaded for images only refuses before any check of the tokens
        long[] shape = Tensors.shape(tokens);
        if (shape.length != 2 || shape[1] != contextLength) {
            throw new IllegalArgumentException("tokens must be [B, " + contextLength + "], got " + java.util.Arrays.toString(shape));
        }
        model.text().checkTokens(tokens); // ids outside the vocabulary get libtorch's error, not a failed Gather
        long b = shape[0];
        if (b == 0) return Tensors.zeros(DType.F32, 0, embedDim);
        long[] ids = Tensors.toLongs(tokens);
        int[] eot = new int[(int) b];
        for (int row = 0; row < b; row++) {
            int at = 0; // the first position of the row's highest id, as torch.argmax
            for (int i = 1; i < contextLength; i++) if (ids[row * contextLength + i] > ids[row * contextLength + at]) at = i;
            eot[row] = at;
        }
        try {
            return sliced(this::textTower, b, (tower, from, to) -> textRun(tower, ids, eot, from, to));
        } catch (OrtException ex) {
            throw new IllegalStateException("ONNX Runtime failed on the text tower: " + ex.getMessage(), ex);
        }
    }

    /**
     * The text tower on rows [from, to) of {@code ids}, their positions up to the slice's last end of text, as
     * TextTransformer#encode keeps (the others never reach a feature: the mask is causal).
     */
    private float[] textRun(OnnxSession tower, long[] ids, int[] eotOf, int from, int to) throws OrtException {
        int n = to - from, keep = 0;
        for (int row = from; row < to; row++) keep = Math.max(keep, eotOf[row] + 1);
        long[] kept = new long[n * keep], eot = new long[n], flat = new long[n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(ids, (from + i) * contextLength, kept, i * keep, keep);
            eot[i] = eotOf[from + i];
            flat[i] = (long) i * keep + eot[i];
        }
        try (OnnxTensor t = OnnxTensor.createTensor(env, LongBuffer.wrap(kept), new long[] {n, keep});
             OnnxTensor e = OnnxTensor.createTensor(env, LongBuffer.wrap(eot), new long[] {n});
             OnnxTensor f = OnnxTensor.createTensor(env, LongBuffer.wrap(flat), new long[] {n})) {
            return tower.values(Map.of("tokens", t, "eot", e, "flat_eot", f));
        }
    }

    @Override
    public int imageResolution() {
        return resolution;
    }

    @Override
    public int contextLength() {
        return contextLength;
    }

    /** A run of a tower on rows [from, to) of its inputs → the features' values; makes no libtorch tensor (any thread). */
    private interface Slice {
        float[] run(OnnxSession tower, int from, int to) throws OrtException;
    }

    /** The threads that run a batch's other slices beside the caller's ({@link OnnxThreads#SLICES}). */
    private static final ExecutorService SLICE_THREADS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "clip4j-onnx-slice");
        t.setDaemon(true);
        return t;
    });

    /**
     * {@code rows} inputs through {@code tower} → [rows, embed_dim]: in one run, or for SLICES in min(rows, T) slices at
     * once, the caller running the first. Holds off {@link #close} until every slice is done.
     */
    private Tensor sliced(Supplier<OnnxSession> towerOf, long rows, Slice slice) throws OrtException {
        inUse.readLock().lock();
        try {
            OnnxSession tower = towerOf.get();
            int n = (int) rows, parts = threads == OnnxThreads.SLICES ? (int) Math.min(rows, Math.max(1, Torch.threads())) : 1;
            List<Future<float[]>> slices = new ArrayList<>();
            for (int p = 1; p < parts; p++) {
                int from = n * p / parts, to = n * (p + 1) / parts;
                slices.add(submitOrRun(() -> slice.run(tower, from, to)));
            }
            FutureTask<float[]> first = new FutureTask<>(() -> slice.run(tower, 0, n / parts));
            first.run();
            slices.add(0, first);
            return Tensors.fromFloats(joined(slices, n * embedDim), rows, embedDim);
        } finally {
            inUse.readLock().unlock();
        }
    }

    /** A slice on a slice thread, or on the caller's where no thread can be had. */
    private static Future<float[]> submitOrRun(Callable<float[]> slice) {
        try {
            return SLICE_THREADS.submit(slice);
        } catch (RejectedExecutionException | OutOfMemoryError noThread) {
            FutureTask<float[]> here = new FutureTask<>(slice);
            here.run();
            return here;
        }
    }

    /**
     * The slices' values in order, once every one is done: they read the caller's input buffers, so they are waited
     * for even when the caller is interrupted (the interrupt is kept) or one fails (the first failure is thrown).
     */
    static float[] joined(List<Future<float[]>> slices, int size) throws OrtException {
        float[] all = new float[size];
        Throwable failed = null;
        boolean interrupted = false;
        int at = 0;
        for (Future<float[]> f : slices) {
            while (true) {
                try {
                    float[] v = f.get();
                    if (failed == null) System.arraycopy(v, 0, all, at, v.length);
                    at += v.length;
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    if (failed == null) failed = e.getCause();
                    break;
                }
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        if (failed instanceof OrtException e) throw e;
        if (failed instanceof RuntimeException e) throw e;
        if (failed instanceof Error e) throw e;
        if (failed != null) throw new IllegalStateException(failed);
        return all;
    }

    /** Frees both sessions, once the forwards in flight have finished; later calls fail with IllegalStateException. */
    @Override
    public void close() {
        inUse.writeLock().lock(); // before this object's monitor, which a run takes inside its shared hold
        try {
            synchronized (this) {
                closed = true;
                if (image != null) image.close();
                if (text != null) text.close();
                image = text = null;
            }
        } finally {
            inUse.writeLock().unlock();
        }
    }
}
