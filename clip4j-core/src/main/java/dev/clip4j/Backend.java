package dev.clip4j;

import dev.clip4j.model.ClipModel;
import dev.clip4j.onnx.OnnxClip;

import java.util.Locale;

/**
 * What runs inference: {@code TORCH} (libtorch, every precision, the path training uses), {@code ONNX} (ONNX Runtime
 * on the graphs clip4j writes of its own modules, float32 and int8, {@link OnnxClip}) or {@code AUTO}: ONNX Runtime
 * for a float32 or int8 model it can run (its CPU kernels run CLIP's towers faster than libtorch's), libtorch
 * otherwise (bf16, token-wise or fusion models). Float32 features agree to 1e-5 relative either way; int8 ones differ
 * by how each rounds the activations (both within cosine 0.99 of float32).
 *
 * <p>A process-wide setting, like the thread count: {@code --backend} sets it for a command; {@link Clip#load} and
 * {@link Clip#handOver} (and so the index, {@code embed}, the service) use it. The Java API's default is TORCH.
 */
public enum Backend {
    TORCH, ONNX, AUTO;

    private static volatile Backend current = TORCH;
    private static volatile boolean announced;

    /** torch, onnx or auto. */
    public static Backend parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new InputException("unknown backend '" + s + "' (use torch, onnx or auto)");
        }
    }

    /** The backend {@link Clip#load} and {@link Clip#handOver} use from now on in this process. */
    public static void use(Backend b) {
        current = java.util.Objects.requireNonNull(b);
    }

    public static Backend current() {
        return current;
    }

    /**
     * TORCH or ONNX for {@code model} at {@code precision}: AUTO decides (printing its choice once per process);
     * ONNX asked for a model or precision it cannot run is an error naming why.
     */
    public Backend resolve(ClipModel model, Precision precision) {
        if (this == TORCH) return TORCH;
        String why = precision == Precision.BF16 ? "it runs float32 and int8, not bf16 (--precision fp32 or int8)"
                : OnnxClip.unsupported(model);
        if (this == ONNX) {
            if (why != null) throw new InputException("--backend onnx cannot run this model: " + why + " (use --backend torch)");
            return ONNX;
        }
        Backend chosen = why == null ? ONNX : TORCH;
        if (!announced) {
            announced = true;
            System.err.println("clip4j: --backend auto: " + (chosen == ONNX
                    ? "onnx (" + (precision == Precision.INT8 ? "int8" : "float32") + " on ONNX Runtime)" : "torch (not onnx: " + why + ")"));
        }
        return chosen;
    }
}
