package dev.clip4j.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.clip4j.io.ScratchDirectory;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Tensors;
import dev.clip4j.torch.Torch;
import org.bytedeco.pytorch.Tensor;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One ONNX Runtime session over a graph clip4j wrote ({@link OnnxGraph}), with the graph's weights read in place:
 * libtorch tensors wrapped as ONNX Runtime tensors (direct buffers over the same memory), kept alive as long as the
 * session and released when it closes. Thread-safe for {@link #run} (ONNX Runtime sessions are). Close it to free the session.
 */
public final class OnnxSession implements AutoCloseable {
    static {
        OnnxNatives.use();
    }

    private final OrtSession session;
    /** The memory ONNX Runtime reads (the graph's own handles): must outlive the session, closed with it. */
    private final Map<String, Tensor> weights;
    private final List<OnnxTensor> wrapped;

    private OnnxSession(OrtSession session, Map<String, Tensor> weights, List<OnnxTensor> wrapped) {
        this.session = session;
        this.weights = weights;
        this.wrapped = wrapped;
    }

    /**
     * Makes the session over the graph's weights where they lie (libtorch's memory, which the session then holds):
     * ONNX Runtime optimises the graph and packs the GEMM weights now (about a second per tower), keeping both the
     * weights and their packed copies. For a model that others still hold ({@link OnnxClip#of}).
     */
    public static OnnxSession of(OnnxGraph g) {
        return of(g, OnnxThreads.SPIN);
    }

    /** As {@link #of(OnnxGraph)}, its threads used as {@code threads} says. */
    public static OnnxSession of(OnnxGraph g, OnnxThreads threads) {
        List<OnnxTensor> wrapped = new ArrayList<>();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = options(threads)) {
            Map<String, OnnxTensorLike> external = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> w : g.weights().entrySet()) {
                OnnxTensor ot = wrap(env, w.getValue());
                wrapped.add(ot);
                external.put(w.getKey(), ot);
            }
            o.addExternalInitializers(external);
            OnnxSession made = new OnnxSession(env.createSession(g.toBytes(), o), g.weights(), wrapped);
            Torch.trimMemory(); // the graph optimiser's scratch back to the kernel
            return made;
        } catch (OrtException e) {
            wrapped.forEach(OnnxTensor::close);
            g.weights().values().forEach(Tensor::close);
            throw new IllegalStateException("ONNX Runtime could not load the graph clip4j wrote: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            wrapped.forEach(OnnxTensor::close);
            g.weights().values().forEach(Tensor::close);
            throw e;
        }
    }

    /**
     * Makes the session with ONNX Runtime owning its copy of the weights: the graph is written with its weights to a
     * private temporary directory ({@link ScratchDirectory}, {@link OnnxGraph#writeTo}), ONNX Runtime maps them from
     * there, and once it has packed a GEMM weight it unmaps it (its session state drops constant initializers that
     * every user packed), so the tower's GEMM weights end up in memory once, packed. The files are deleted before this
     * returns and the graph's handles closed. {@code freeSource} runs once the files are written and before ONNX
     * Runtime reads them, to free the memory the weights came from (the model's tower, {@link OnnxClip}), so that they
     * are never in memory twice; should ONNX Runtime then refuse the graph (clip4j's own bug, never the user's input),
     * the error says so and the tower stays freed. Where the directory cannot be written (a full or read-only temporary
     * directory), the weights are read in place as {@link #of} does and {@code freeSource} does not run, with a
     * warning: only memory is at stake.
     */
    public static OnnxSession owning(OnnxGraph g, Runnable freeSource) {
        return owning(g, freeSource, OnnxThreads.SPIN);
    }

    /** As {@link #owning(OnnxGraph, Runnable)}, its threads used as {@code threads} says. */
    public static OnnxSession owning(OnnxGraph g, Runnable freeSource, OnnxThreads threads) {
        return owning(g, ScratchDirectory::create, freeSource, threads);
    }

    /** Makes a fresh {@link ScratchDirectory}. */
    interface Scratch {
        ScratchDirectory create() throws IOException;
    }

    /** As {@link #owning(OnnxGraph, Runnable)}, writing into the directory {@code scratch} makes (tests: one that fails). */
    static OnnxSession owning(OnnxGraph g, Scratch scratch, Runnable freeSource) {
        return owning(g, scratch, freeSource, OnnxThreads.SPIN);
    }

    private static OnnxSession owning(OnnxGraph g, Scratch scratch, Runnable freeSource, OnnxThreads threads) {
        ScratchDirectory dir;
        try {
            dir = scratch.create();
        } catch (IOException e) {
            return inPlaceAfter(g, e, threads);
        }
        try (dir) {
            Path model;
            try {
                model = g.writeTo(dir);
            } catch (IOException e) {
                return inPlaceAfter(g, e, threads);
            }
            g.weights().values().forEach(Tensor::close);
            freeSource.run();
            Torch.trimMemory();
            try (OrtSession.SessionOptions o = options(threads)) {
                OnnxSession made = new OnnxSession(OrtEnvironment.getEnvironment().createSession(model.toString(), o), Map.of(), List.of());
                Torch.trimMemory();
                return made;
            } catch (OrtException e) {
                throw new IllegalStateException("ONNX Runtime could not load the graph clip4j wrote: " + e.getMessage(), e);
            }
        }
    }

    private static OnnxSession inPlaceAfter(OnnxGraph g, IOException e, OnnxThreads threads) {
        System.err.println("warning: could not write the weights for ONNX Runtime to the temporary directory (" + e.getMessage()
                + "); they are read in place instead, which keeps a second copy of them in memory");
        return of(g, threads);
    }

    /**
     * The options of every session: clip4j's threads (T on every operator, or one per run where {@code threads} is
     * SLICES: the caller runs T slices at once), ONNX Runtime's arena, idle threads spinning for SPIN only.
     */
    private static OrtSession.SessionOptions options(OnnxThreads threads) throws OrtException {
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.addConfigEntry("session.intra_op.allow_spinning", threads == OnnxThreads.SPIN ? "1" : "0");
        o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        o.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        o.setIntraOpNumThreads(threads == OnnxThreads.SLICES ? 1 : Math.max(1, Torch.threads())); // the cores libtorch would use
        o.setInterOpNumThreads(1);
        // ONNX Runtime's arena keeps each run's activations (one planned block per input shape) for the next run.
        // Without it every run took that block from malloc afresh, and a block mapped apart (the photo folders' 8 MB
        // threshold, runtime-env.sh) is zeroed by the kernel on every run: int8 embed --images of 500 photos 10.4 s
        // against 11.0 s (medians of four alternating rounds, AMX Xeon), and bench's peak RSS at batch 16 is lower
        // with it (int8 439-443 MB against 536-553, fp32 694-708 against 804-844), the weights being ONNX Runtime's
        // own since the towers are handed over. Texts of many lengths grow it: 1,500 texts at batch 64 peaked 30-100
        // MB higher in int8 (and ran 13.1-13.9 s against 16.6) and ~140 MB higher in fp32 (1.09 GB). bench/RESULTS.md
        o.setCPUArenaAllocator(true);
        return o;
    }

    private static OnnxTensor wrap(OrtEnvironment env, Tensor t) throws OrtException {
        DType type = Tensors.dtype(t);
        return switch (type) {
            case F32 -> OnnxTensor.createTensor(env, Tensors.floatBuffer(t), Tensors.shape(t));
            case I8 -> OnnxTensor.createTensor(env, Tensors.byteBuffer(t), Tensors.shape(t), OnnxJavaType.INT8);
            case U8 -> OnnxTensor.createTensor(env, Tensors.byteBuffer(t), Tensors.shape(t), OnnxJavaType.UINT8);
            default -> throw new IllegalArgumentException("no ONNX Runtime weight of " + type);
        };
    }

    /** Runs the graph on {@code inputs} and returns its first output, float32 [rows, columns] with {@code rows} given. */
    public Tensor run(Map<String, OnnxTensor> inputs, long rows) throws OrtException {
        float[] values = values(inputs);
        return Tensors.fromFloats(values, rows, rows == 0 ? 0 : values.length / rows);
    }

    /** Runs the graph on {@code inputs} and returns its first output's float32 values; makes no libtorch tensor (any thread). */
    public float[] values(Map<String, OnnxTensor> inputs) throws OrtException {
        try (OrtSession.Result r = session.run(inputs)) {
            FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
            float[] values = new float[fb.remaining()];
            fb.get(values);
            return values;
        }
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException ignored) {
            // closing: nothing left to do with a session that fails to close
        }
        wrapped.forEach(OnnxTensor::close);
        // the graph's handles: the memory stays while the model (or anyone else) holds it, and is freed with the last holder
        weights.values().forEach(Tensor::close);
    }
}
