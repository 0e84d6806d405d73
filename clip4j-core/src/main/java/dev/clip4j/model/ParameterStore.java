package dev.clip4j.model;

import dev.clip4j.torch.DType;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Tensors;
import dev.clip4j.torch.Scope;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every tensor of a model under its PyTorch {@code state_dict} name, in registration order: parameters
 * (trainable leaves) and buffers (BatchNorm statistics). Modules look their tensors up here by name at each
 * forward, so a dtype conversion can swap tensors; loading copies values in place.
 */
public final class ParameterStore {
    private final Map<String, Tensor> tensors = new LinkedHashMap<>();
    private final Set<String> buffers = new LinkedHashSet<>();
    /** Model-wide mode, as {@code nn.Module.train()}: only BatchNorm behaves differently. */
    boolean training;

    Tensor get(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new IllegalStateException("model has no tensor " + name);
        return t;
    }

    Tensor parameter(String name, Tensor value) {
        return register(name, value.detach().requires_grad_(true), false);
    }

    Tensor buffer(String name, Tensor value) {
        return register(name, value, true);
    }

    private Tensor register(String name, Tensor value, boolean buffer) {
        if (tensors.containsKey(name)) throw new IllegalStateException("duplicate tensor name " + name);
        // Model tensors live as long as the model, never as long as whatever memory scope is open.
        Scope.escape(value);
        tensors.put(name, value);
        if (buffer) buffers.add(name);
        return value;
    }

    public Map<String, Tensor> stateDict() {
        return Collections.unmodifiableMap(tensors);
    }

    public boolean isBuffer(String name) {
        return buffers.contains(name);
    }

    /** The trainable parameters, by name, in registration order. */
    public Map<String, Tensor> parameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        tensors.forEach((k, v) -> {
            if (!buffers.contains(k)) out.put(k, v);
        });
        return out;
    }

    /** Keys that {@code build_model} drops from OpenAI's archives and that carry no weights. */
    private static final Set<String> IGNORED = Set.of("input_resolution", "context_length", "vocab_size");

    /**
     * Copies a state dict into the model (converting dtypes). Every model tensor must be present with the
     * same shape, except BatchNorm's {@code num_batches_tracked}; unknown keys are an error.
     */
    public void load(Map<String, Tensor> source, String origin) {
        List<String> unexpected = new ArrayList<>();
        for (String k : source.keySet()) {
            if (!tensors.containsKey(k) && !IGNORED.contains(k) && !k.endsWith("attn_mask")) unexpected.add(k);
        }
        if (!unexpected.isEmpty()) {
            throw new IllegalArgumentException(origin + ": tensors the model does not have: "
                    + String.join(", ", unexpected.subList(0, Math.min(5, unexpected.size())))
                    + (unexpected.size() > 5 ? " (and " + (unexpected.size() - 5) + " more)" : ""));
        }
        Grad.noGrad(() -> {
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                Tensor src = source.get(e.getKey());
                if (src == null) {
                    if (e.getKey().endsWith("num_batches_tracked")) continue;
                    throw new IllegalArgumentException(origin + ": tensor '" + e.getKey() + "' is missing");
                }
                long[] want = Tensors.shape(e.getValue()), got = Tensors.shape(src);
                if (!Arrays.equals(want, got)) {
                    throw new IllegalArgumentException(origin + ": tensor '" + e.getKey() + "' has shape "
                            + Arrays.toString(got) + ", the model expects " + Arrays.toString(want));
                }
                if (Tensors.dtype(e.getValue()).isFloatingPoint()) {
                    DType d = Tensors.dtype(src);
                    if (!d.isFloatingPoint()) {
                        throw new IllegalArgumentException(origin + ": tensor '" + e.getKey() + "' is " + d.safetensorsName
                                + "; CLIP weights must be floating point (F32, F16, BF16)");
                    }
                    if (!Tensors.allFinite(src)) {
                        throw new IllegalArgumentException(origin + ": tensor '" + e.getKey() + "' holds NaN or infinite values");
                    }
                }
                e.getValue().copy_(src);
            }
        });
    }

    /** Converts floating-point parameters whose names {@code select} accepts to {@code dtype}, in place of the old. */
    void convert(DType dtype, java.util.function.Predicate<String> select) {
        Grad.noGrad(() -> {
            for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
                Tensor t = e.getValue();
                if (select.test(e.getKey()) && Tensors.dtype(t).isFloatingPoint() && Tensors.dtype(t) != dtype) {
                    Tensor converted = Scope.escape(Tensors.to(t, dtype).detach());
                    if (!buffers.contains(e.getKey())) converted.requires_grad_(t.requires_grad());
                    e.setValue(converted);
                    t.close(); // free the old copy now: the GC would not notice native memory for a long time

                }
            }
        });
    }
}
