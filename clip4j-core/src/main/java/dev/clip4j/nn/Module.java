package dev.clip4j.nn;

import dev.clip4j.torch.DType;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * A node of a model, as PyTorch's {@code nn.Module}: it owns named parameters, buffers and child modules, and every
 * recursive view ({@link #namedParameters()}, {@link #namedBuffers()}, {@link #stateDict()}) names a tensor by its
 * dotted path — for CLIP exactly OpenAI's {@code state_dict} names. A child registered under the empty name is
 * inlined (its tensors appear without a prefix), as CLIP's text tower sits at the top level of OpenAI's model.
 *
 * <p>Modules fetch their tensors by name at each forward ({@link #p}), so a dtype conversion can swap them. Tensors
 * live as long as the module, never as long as the memory scope open when it was built.
 *
 * <p>Behaviour by module type, asked of the modules rather than matched on names: {@link #keepsFloat32} (norms stay
 * float32 under {@link #to(DType)}), {@link #decays} (which parameters get weight decay).
 */
public abstract class Module {
    private final Map<String, Tensor> parameters = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    /** The int8 layers {@link #quantizeOwn} made ({@link #own}). */
    private final java.util.List<dev.clip4j.torch.QuantizedLinear> quantized = new java.util.ArrayList<>();
    private boolean training;
    private boolean int8;

    /** Registers a trainable parameter (a leaf that requires grad), initialised with {@code init}. */
    protected final Tensor parameter(String name, Tensor init) {
        checkFree(name);
        Tensor t = Scope.escape(init.detach().requires_grad_(true));
        parameters.put(name, t);
        return t;
    }

    /** Registers a buffer (state that is saved but not trained, e.g. BatchNorm statistics or a queue). */
    protected final Tensor buffer(String name, Tensor init) {
        checkFree(name);
        Tensor t = Scope.escape(init);
        buffers.put(name, t);
        return t;
    }

    /** Registers a child module under {@code name} ("" inlines it); returns it for a field. */
    protected final <M extends Module> M child(String name, M module) {
        checkFree(name.isEmpty() ? "\u0000" + children.size() : name);
        children.put(name.isEmpty() ? "\u0000" + children.size() : name, module);
        return module;
    }

    private void checkFree(String name) {
        if (parameters.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
            throw new IllegalStateException(getClass().getSimpleName() + " already has a member named " + name);
        }
    }

    /** This module's own parameter or buffer {@code name}. */
    protected final Tensor p(String name) {
        Tensor t = parameters.get(name);
        if (t == null) t = buffers.get(name);
        if (t == null) throw new IllegalStateException(getClass().getSimpleName() + " has no tensor " + name);
        return t;
    }

    private static String join(String prefix, String name) {
        return name.startsWith("\u0000") ? prefix : prefix + name + ".";
    }

    /** Every parameter of this module and its descendants, by dotted name (own first, then children, in order). */
    public final Map<String, Tensor> namedParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, true, false);
        return Collections.unmodifiableMap(out);
    }

    /** Every buffer, by dotted name. */
    public final Map<String, Tensor> namedBuffers() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, false, true);
        return Collections.unmodifiableMap(out);
    }

    /** Parameters and buffers, by dotted name: what a checkpoint holds. */
    public final Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, true, true);
        return Collections.unmodifiableMap(out);
    }

    private void collect(String prefix, Map<String, Tensor> out, boolean params, boolean bufs) {
        if (params) parameters.forEach((k, v) -> out.put(prefix + k, v));
        if (bufs) buffers.forEach((k, v) -> out.put(prefix + k, v));
        children.forEach((k, c) -> c.collect(join(prefix, k), out, params, bufs));
    }

    /** The named child modules (inlined ones under their own children's names are not listed separately). */
    public final Map<String, Module> namedChildren() {
        Map<String, Module> out = new LinkedHashMap<>();
        children.forEach((k, c) -> out.put(k.startsWith("\u0000") ? "" : k, c));
        return Collections.unmodifiableMap(out);
    }

    /** Stops gradients into every parameter of this module and its descendants (e.g. a locked tower). */
    public final Module freeze() {
        namedParameters().values().forEach(t -> t.requires_grad_(false));
        return this;
    }

    public final Module unfreeze() {
        namedParameters().values().forEach(t -> t.requires_grad_(true));
        return this;
    }

    /** Training mode (BatchNorm uses batch statistics) or evaluation mode, for this module and its descendants. */
    public Module train(boolean training) {
        if (training && int8) throw new IllegalStateException("an int8 model is for inference only; train its float model");
        this.training = training;
        children.values().forEach(c -> c.train(training));
        return this;
    }

    public final boolean isTraining() {
        return training;
    }

    /**
     * Converts floating-point tensors to {@code dtype}, except in modules that {@link #keepsFloat32 keep float32}
     * (norms), as OpenAI's {@code convert_weights} does for fp16. Old tensors are freed at once.
     */
    public Module to(DType dtype) {
        Grad.noGrad(() -> {
            convert(parameters, dtype, true);
            convert(buffers, dtype, false);
        });
        children.values().forEach(c -> c.to(dtype));
        return this;
    }

    private void convert(Map<String, Tensor> tensors, DType dtype, boolean params) {
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            DType d = Tensors.dtype(t);
            // norms keep float32 in half-precision models; a float64 model is float64 throughout
            if (!d.isFloatingPoint() || d == dtype || (dtype.bytes < 4 && keepsFloat32(e.getKey()))) continue;
            Tensor converted = Scope.escape(Tensors.to(t, dtype).detach());
            if (params) converted.requires_grad_(t.requires_grad());
            e.setValue(converted);
            t.close(); // the GC would not notice native memory for a long time
        }
    }

    /**
     * Whether the constants a layer folds into its weights in training (QuickGELU's 1.702, attention's 1/sqrt(d))
     * ride on its GEMMs' scale factors instead: in evaluation mode, where no pass over the weights (a copy of them
     * on every forward) or over the activations is needed. Training keeps the folded weights, whose gradient is one
     * formula for every batch size, so micro-batches reproduce the full batch's arithmetic.
     */
    protected final boolean constantsOnGemms() {
        return !training;
    }

    /**
     * Converts this module, in place, for int8 inference ({@link dev.clip4j.torch.QuantizedLinear}, PyTorch's dynamic
     * quantization): every linear layer's weights, as its forward uses them (with constants it folds in), are packed
     * as int8 and the float copies freed — what makes the model ~4x smaller. A ViT's patch embedding is such a linear
     * layer on each patch ({@link PatchEmbedding}); convolutions, norms, embeddings and projection matrices stay
     * float32. The result is for inference only: it cannot be copied, trained or loaded into.
     */
    public final Module quantizeInt8() {
        requireQuantizable();
        Grad.noGrad(() -> quantizeChild(this));
        markInt8();
        dev.clip4j.torch.Torch.trimMemory(); // the float copies' memory back to the kernel
        return this;
    }

    /** What int8 quantization starts from: a float32 model in evaluation mode. */
    private void requireQuantizable() {
        if (training) throw new IllegalStateException("quantize a model in evaluation mode (train(false))");
        if (stateDict().values().stream().anyMatch(t -> Tensors.dtype(t).isFloatingPoint() && Tensors.dtype(t) != DType.F32)) {
            throw new IllegalStateException("int8 quantization starts from a float32 model");
        }
    }

    /** What {@link #quantizeInt8} does to this module: by default, quantize each child. Layers override it. */
    protected void quantizeOwn() {
        children.values().forEach(Module::quantizeChild);
    }

    /**
     * Quantizes {@code child} (for {@link #quantizeOwn} overrides that quantize some children only) in a memory scope
     * of its own, so each layer's temporaries (folded weights) are freed before the next layer's are made.
     */
    protected static void quantizeChild(Module child) {
        try (Scope s = Scope.open()) {
            child.quantizeOwn();
        }
    }

    /** Registers an int8 layer this module's {@link #quantizeOwn} made, for {@link #releaseWeights}; returns it. */
    protected final dev.clip4j.torch.QuantizedLinear own(dev.clip4j.torch.QuantizedLinear layer) {
        quantized.add(layer);
        return layer;
    }

    /**
     * Frees every weight of this module and its descendants now, float and int8: for a part of a model that runs
     * elsewhere from a copy of its own ({@link dev.clip4j.model.ClipModel#releaseTower}). Its forward fails afterwards.
     */
    public final void releaseWeights() {
        Grad.noGrad(() -> stateDict().values().forEach(Tensors::freeStorage));
        releaseQuantized();
    }

    private void releaseQuantized() {
        quantized.forEach(dev.clip4j.torch.QuantizedLinear::release);
        children.values().forEach(Module::releaseQuantized);
    }

    void markInt8() {
        int8 = true;
        children.values().forEach(Module::markInt8);
    }

    /** Whether {@link #quantizeInt8} converted this module. */
    public final boolean isInt8() {
        return int8;
    }

    /**
     * Frees own tensor {@code name}'s memory now (its int8 copy serves the forward), leaving it empty: through
     * {@link Tensors#freeStorage}, since a parameter shares its storage with the tensor it was initialised from.
     */
    protected final void release(String name) {
        Tensors.freeStorage(p(name));
    }

    /** Whether own tensor {@code name} stays float32 under {@link #to(DType)}; norms override this to true. */
    protected boolean keepsFloat32(String name) {
        return false;
    }

    /** Whether own parameter {@code name} gets weight decay: by default ≥ 2-D weights (not gains and biases). */
    protected boolean decays(String name, Tensor parameter) {
        return parameter.dim() >= 2;
    }

    /** Whether the parameter at dotted {@code path} gets weight decay, asked of the module that owns it. */
    public final boolean decays(String path) {
        Module owner = this;
        String rest = path;
        outer:
        while (true) {
            if (owner.parameters.containsKey(rest)) return owner.decays(rest, owner.parameters.get(rest));
            for (Map.Entry<String, Module> c : owner.children.entrySet()) {
                String k = c.getKey();
                if (k.startsWith("\u0000")) {
                    if (c.getValue().stateDict().containsKey(rest)) {
                        owner = c.getValue();
                        continue outer;
                    }
                } else if (rest.startsWith(k + ".")) {
                    owner = c.getValue();
                    rest = rest.substring(k.length() + 1);
                    continue outer;
                }
            }
            throw new IllegalArgumentException(getClass().getSimpleName() + " has no parameter " + path);
        }
    }

    /**
     * Copies values from {@code source} into this module's tensors (converting dtypes). Every tensor must be present
     * with the same shape, except those {@link #optionalOnLoad} allows to be missing; keys not in the module are
     * returned for the caller to judge.
     */
    public final List<String> load(Map<String, Tensor> source, String origin) {
        return load(source, origin, false);
    }

    /**
     * As {@link #load(Map, String)}; with {@code adopt}, a source tensor of the parameter's dtype that is the whole of
     * its storage becomes the parameter's storage instead of being copied (for tensors just read from a checkpoint,
     * which nobody else uses: loading then needs the model's memory once, not twice). Views into a shared storage are
     * copied, so freeing one parameter's storage ({@link #release}) never empties another's.
     */
    public final List<String> load(Map<String, Tensor> source, String origin, boolean adopt) {
        if (int8) throw new IllegalStateException("an int8 model cannot be loaded into; load the float model and quantize it");
        Map<String, Tensor> mine = stateDict();
        List<String> unexpected = unexpectedKeys(source, mine);
        Grad.noGrad(() -> {
            for (Map.Entry<String, Tensor> e : mine.entrySet()) {
                Tensor src = source.get(e.getKey());
                if (src == null) {
                    requireOptional(e.getKey(), origin);
                    continue;
                }
                assign(e.getKey(), e.getValue(), src, origin, adopt);
            }
        });
        return unexpected;
    }

    /**
     * Loads a checkpoint for inference one tensor at a time, in name order: each tensor is read from {@code source}
     * only when its turn comes, checked as {@link #load} checks it, taken over as its parameter's memory and shown to
     * {@code loaded} (in the order {@link dev.clip4j.checkpoint.ModelFingerprint} hashes). With {@code int8}, each layer
     * is quantized ({@link #quantizeInt8}) the moment its last tensor is in, so its float weights are freed before the
     * next layer is read and the float model is never whole in memory: a ViT-B/32 loads in its int8 size plus one
     * layer. The module must be in evaluation mode and float32 (built to be loaded into, e.g. {@link Init#skipping}).
     * Tensors not {@code wanted} are left as they are (a tower dropped for the work at hand): never read here, and never
     * quantized, but handed in their turn to {@code passedOver} with their source (which reads them only if it needs
     * their values: a fingerprint covers every weight). Returns the source's keys the module does not have.
     */
    public final List<String> stream(Map<String, ? extends Supplier<Tensor>> source, String origin, boolean int8,
                                     java.util.function.Predicate<String> wanted, BiConsumer<String, Tensor> loaded,
                                     BiConsumer<String, Supplier<Tensor>> passedOver) {
        if (this.int8) throw new IllegalStateException("an int8 model cannot be loaded into");
        if (int8) requireQuantizable();
        Map<String, Tensor> mine = new TreeMap<>(stateDict());
        List<String> unexpected = unexpectedKeys(source, mine);
        java.util.Set<String> toLoad = new java.util.HashSet<>();
        for (String k : mine.keySet()) if (source.containsKey(k) && wanted.test(k)) toLoad.add(k);
        LayerByLayer layers = int8 ? new LayerByLayer(this, toLoad, wanted) : null;
        Grad.noGrad(() -> {
            for (Map.Entry<String, Tensor> e : mine.entrySet()) {
                String key = e.getKey();
                Supplier<Tensor> stored = source.get(key);
                if (!wanted.test(key)) {
                    if (stored != null) passedOver.accept(key, stored);
                    continue;
                }
                if (stored == null) {
                    requireOptional(key, origin);
                    continue;
                }
                Tensor src = stored.get();
                try {
                    assign(key, e.getValue(), src, origin, true);
                } finally {
                    src.close(); // an adopted storage lives on in its parameter; a copied source is freed now
                }
                loaded.accept(key, e.getValue());
                if (layers != null) layers.loaded(key, e.getValue());
            }
            if (layers != null) layers.finish();
        });
        return unexpected;
    }

    /**
     * Maps each tensor to the outermost module at or under this one that quantizes itself (overrides
     * {@link #quantizeOwn}); tensors of modules that only quantize their children map to nothing.
     */
    void collectLayers(String prefix, Module layer, Map<String, Module> out, Map<Module, Integer> layers) {
        Module mine = layer == null && quantizesItself() ? this : layer;
        if (mine == this) layers.put(this, 0);
        if (mine != null) {
            parameters.keySet().forEach(k -> out.put(prefix + k, mine));
            buffers.keySet().forEach(k -> out.put(prefix + k, mine));
        }
        children.forEach((k, c) -> c.collectLayers(join(prefix, k), mine, out, layers));
    }

    /** Whether this module's class (below Module) overrides {@link #quantizeOwn}, i.e. quantizes itself as a unit. */
    private boolean quantizesItself() {
        for (Class<?> c = getClass(); c != Module.class; c = c.getSuperclass()) {
            try {
                c.getDeclaredMethod("quantizeOwn");
                return true;
            } catch (NoSuchMethodException e) {
                // look further up
            }
        }
        return false;
    }

    private static List<String> unexpectedKeys(Map<String, ?> source, Map<String, Tensor> mine) {
        List<String> unexpected = new ArrayList<>();
        for (String k : source.keySet()) if (!mine.containsKey(k)) unexpected.add(k);
        return unexpected;
    }

    private void requireOptional(String key, String origin) {
        if (!optionalOnLoad(key)) throw new IllegalArgumentException(origin + ": tensor '" + key + "' is missing");
    }

    /** Checks {@code src} against the module's tensor {@code target} and puts its values there (see {@link #load}). */
    private static void assign(String key, Tensor target, Tensor src, String origin, boolean adopt) {
        long[] want = Tensors.shape(target), got = Tensors.shape(src);
        if (!Arrays.equals(want, got)) {
            throw new IllegalArgumentException(origin + ": tensor '" + key + "' has shape "
                    + Arrays.toString(got) + ", the model expects " + Arrays.toString(want));
        }
        if (Tensors.dtype(target).isFloatingPoint()) {
            DType d = Tensors.dtype(src);
            if (!d.isFloatingPoint()) {
                throw new IllegalArgumentException(origin + ": tensor '" + key + "' is " + d.safetensorsName
                        + "; weights must be floating point (F32, F16, BF16)");
            }
            if (!Tensors.allFinite(src)) {
                throw new IllegalArgumentException(origin + ": tensor '" + key + "' holds NaN or infinite values");
            }
        }
        if (adopt && Tensors.ownsItsStorage(src) && Tensors.dtype(src) == Tensors.dtype(target)) target.set_(src);
        else target.copy_(src);
    }

    /** Tensors a checkpoint may lack (BatchNorm's {@code num_batches_tracked}, as PyTorch's loader allows). */
    protected boolean optionalOnLoad(String path) {
        return path.endsWith("num_batches_tracked");
    }

    /**
     * A deep copy: the same structure built without random initialisation ({@link Init#skipping}), every tensor
     * cloned (no storage shared), the same frozen parameters and mode. For momentum encoders and weight averaging.
     */
    @SuppressWarnings("unchecked")
    public final <M extends Module> M copy() {
        if (int8) throw new IllegalStateException("an int8 model cannot be copied; quantize a copy of its float model");
        Module twin = Init.skipping(this::blank);
        Map<String, Tensor> mine = stateDict();
        for (DType reduced : new DType[] {DType.BF16, DType.F16}) {
            if (mine.values().stream().anyMatch(v -> Tensors.dtype(v) == reduced)) twin.to(reduced);
        }
        Map<String, Tensor> theirs = twin.stateDict();
        Grad.noGrad(() -> mine.forEach((k, v) -> {
            Tensor t = theirs.get(k);
            if (Tensors.dtype(t) != Tensors.dtype(v)) throw new IllegalStateException("copy of " + k + " has another dtype");
            t.copy_(v);
        }));
        Map<String, Tensor> myParams = namedParameters(), twinParams = twin.namedParameters();
        myParams.forEach((k, v) -> twinParams.get(k).requires_grad_(v.requires_grad()));
        twin.train(training);
        return (M) twin;
    }

    /**
     * A new module of the same type and shape (its values are overwritten by {@link #copy}); subclasses return their
     * constructor call with the same arguments. A model converted by {@link #to(DType)} must convert the twin too.
     */
    protected abstract Module blank();
}
