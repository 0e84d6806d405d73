package dev.clip4j.cli;

import dev.clip4j.Precision;
import dev.clip4j.torch.Torch;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Options shared by several commands, as picocli mixins, so each means the same everywhere. */
final class CommonOptions {
    private CommonOptions() {}

    /** {@code --threads}: libtorch's intra-op threads; 0 is one per core, or {@code CLIP4J_THREADS} where set. */
    static final class Threads {
        /** Set by {@code ./clip4j launch} for each rank (its --threads-per-proc), so ranks do not oversubscribe cores. */
        static final String ENV = "CLIP4J_THREADS";

        @Option(names = "--threads", defaultValue = "0", description = "libtorch threads (default: one per core, or "
                + "$CLIP4J_THREADS).")
        int threads;

        /** Validates and applies the setting. */
        void apply() {
            int n = threads;
            String env = System.getenv(ENV);
            if (n == 0 && env != null && !env.isBlank()) {
                try {
                    n = Integer.parseInt(env.trim());
                } catch (NumberFormatException e) {
                    throw new UserError(ENV + " must be an integer, got '" + env + "'");
                }
            }
            Torch.setThreads(Options.threads(n));
        }
    }

    /**
     * {@code --model}: a checkpoint file, a model directory, or a training run directory (its newest checkpoint;
     * resolved by the core's {@link dev.clip4j.checkpoint.ModelLocator}).
     */
    static final class Model {
        @Option(names = "--model", required = true,
                description = "Checkpoint file, model directory, or training run directory (its newest checkpoint).")
        Path model;
    }

    /**
     * {@code --precision} for inference commands: auto (the default: bf16 where this CPU runs it natively and faster,
     * else fp32; {@link dev.clip4j.AutoPrecision}), fp32 (the exact reference), bf16 (weights converted to bfloat16,
     * norms and logit_scale kept float32) or int8 (linear layers dynamically quantized; never chosen by auto). Training's --precision means autocast instead and is declared there.
     */
    static final class InferencePrecision {
        @Option(names = "--precision", defaultValue = "auto",
                description = "auto (default: bf16 where the CPU has native bf16 and it measures faster, else fp32), fp32 (exact reference), bf16, or int8 (dynamic quantization of the linear layers).")
        String precision;

        Precision get() {
            return Precision.parse(precision);
        }
    }

    /**
     * {@code --backend} for inference commands: auto (the default: ONNX Runtime for a float32 or int8 model it can
     * run, else libtorch; {@link dev.clip4j.Backend}), torch or onnx.
     */
    static final class InferenceBackend {
        @Option(names = "--backend", defaultValue = "auto",
                description = "auto (default: onnx for int8, and for float32 from 64 images or 2048 texts; else torch), torch (libtorch, every precision) or onnx (ONNX Runtime on graphs clip4j writes; float32 and int8).")
        String backend;

        /**
         * Below this many inputs auto keeps libtorch: making ONNX Runtime's session for a ViT-B/32 tower takes 1.1–2.1 s
         * here (as long as ONNX Runtime takes to load the PyTorch-exported tower), and it saves ~23 ms per image at
         * batch 16 (bench/RESULTS.md), so it pays from about 50–90 images. Not for int8: there ONNX Runtime's session
         * takes about as long as FBGEMM's packing of the same weights on libtorch (bench/RESULTS.md).
         */
        static final long AUTO_ONNX_MIN_INPUTS = 64;

        /**
         * A text counts this much less than an image toward {@link #AUTO_ONNX_MIN_INPUTS}: the text tower runs a prompt's
         * positions up to its end of text only (~10 of 77), ~3–4 ms of the two cores in float32 on either backend, so
         * ONNX Runtime's session pays from about 2,000 texts (`embed --text` of ViT-B/32, AMX Xeon: 300 texts 7.0–7.4 s
         * on onnx against 5.8 s on torch; 2,000 texts 14.6–17.9 s against 15.9–16.0 s).
         */
        static final long AUTO_TEXTS_PER_INPUT = 32;

        /** Validates the choice and makes it the process's ({@link dev.clip4j.Backend#use}): for long-lived work. */
        dev.clip4j.Backend apply() {
            dev.clip4j.Backend b;
            try {
                b = dev.clip4j.Backend.parse(backend);
            } catch (dev.clip4j.InputException e) {
                throw new UserError("--backend: " + e.getMessage());
            }
            dev.clip4j.Backend.use(b);
            return b;
        }

        /**
         * As {@link #apply()} for a command that embeds {@code inputs} images and texts at {@code precision}: auto keeps
         * libtorch for a few in float32.
         */
        dev.clip4j.Backend apply(long inputs, InferencePrecision precision) {
            return apply(inputs, 0, precision);
        }

        /** As {@link #apply(long, InferencePrecision)} for {@code images} images and {@code texts} texts. */
        dev.clip4j.Backend apply(long images, long texts, InferencePrecision precision) {
            return apply(images, texts, !precision.precision.trim().equalsIgnoreCase("auto") && precision.get() == Precision.INT8);
        }

        /**
         * As {@link #apply(long, long, InferencePrecision)} where the precision comes from elsewhere (an index's):
         * {@code int8} always runs on ONNX Runtime under auto.
         */
        dev.clip4j.Backend apply(long images, long texts, boolean int8) {
            dev.clip4j.Backend b = apply();
            if (b == dev.clip4j.Backend.AUTO && images + texts / AUTO_TEXTS_PER_INPUT < AUTO_ONNX_MIN_INPUTS && !int8) {
                String what = texts == 0 ? images + " input" + (images == 1 ? "" : "s")
                        : images + " image" + (images == 1 ? "" : "s") + " and " + texts + " text" + (texts == 1 ? "" : "s");
                System.err.println("clip4j: --backend auto: torch (" + what + ": ONNX Runtime's start-up pays from "
                        + AUTO_ONNX_MIN_INPUTS + (texts == 0 ? "" : " images or " + AUTO_ONNX_MIN_INPUTS * AUTO_TEXTS_PER_INPUT + " texts") + ")");
                b = dev.clip4j.Backend.TORCH;
                dev.clip4j.Backend.use(b);
            }
            return b;
        }
    }

    /**
     * How ONNX Runtime uses the cores for a command that embeds {@code images} images and {@code texts} texts: in
     * slices of each batch, one thread each, where they are as many as {@code --backend auto} counts worth ONNX
     * Runtime's start-up (throughput on batches: ViT-B/32 at batch 16 7–16 % faster); else every thread on one input at a time.
     */
    static dev.clip4j.onnx.OnnxThreads onnxThreads(long images, long texts) {
        return images + texts / InferenceBackend.AUTO_TEXTS_PER_INPUT >= InferenceBackend.AUTO_ONNX_MIN_INPUTS
                ? dev.clip4j.onnx.OnnxThreads.SLICES : dev.clip4j.onnx.OnnxThreads.SPIN;
    }

    /**
     * {@code --precision} for evaluations: fp32 by default (scores are reported against the exact reference), or bf16
     * or int8 to measure what those precisions cost on a task.
     */
    static final class EvalPrecision {
        @Option(names = "--precision", defaultValue = "fp32", description = "fp32 (default), bf16 or int8: the precision to evaluate the model in.")
        String precision;

        /** The model at {@code path} for evaluation at the precision asked (int8 quantized layer by layer as it loads). */
        dev.clip4j.model.ClipModel load(java.nio.file.Path path) {
            Precision p = explicitPrecision(precision);
            dev.clip4j.model.ClipModel model = dev.clip4j.checkpoint.ClipCheckpoint.loadForInference(path, p == Precision.INT8, false).model();
            return p == Precision.BF16 ? model.toBf16() : model;
        }
    }

    /**
     * {@code --backend} for evaluations: torch by default (the reference path), or onnx (or auto) to score what ONNX
     * Runtime computes for a float32 or int8 model.
     */
    static final class EvalBackend {
        @Option(names = "--backend", defaultValue = "torch",
                description = "torch (default), onnx or auto: what runs the towers (ONNX Runtime: float32 and int8 models).")
        String backend;

        /**
         * {@code evaluation} with {@code model}'s towers at {@code precision} run by the backend asked: the model itself,
         * or an {@link dev.clip4j.onnx.OnnxClip} closed afterwards; a one-line error where ONNX Runtime cannot run it.
         */
        <T> T evaluate(dev.clip4j.model.ClipModel model, String precision,
                       java.util.function.Function<dev.clip4j.model.FeatureEncoder, T> evaluation) {
            dev.clip4j.Backend b;
            try {
                b = dev.clip4j.Backend.parse(backend).resolve(model, explicitPrecision(precision));
            } catch (dev.clip4j.InputException e) {
                throw new UserError(e.getMessage());
            }
            if (b != dev.clip4j.Backend.ONNX) return evaluation.apply(model);
            try (dev.clip4j.onnx.OnnxClip onnx = dev.clip4j.onnx.OnnxClip.of(model)) {
                return evaluation.apply(onnx);
            }
        }
    }

    /** fp32, bf16 or int8 as {@code --precision} names it (not auto), or a one-line error. */
    static Precision explicitPrecision(String precision) {
        try {
            return Precision.explicit(precision);
        } catch (IllegalArgumentException e) {
            throw new UserError("--precision: " + e.getMessage());
        }
    }
}
