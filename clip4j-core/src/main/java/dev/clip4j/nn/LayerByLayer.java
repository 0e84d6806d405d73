package dev.clip4j.nn;

import dev.clip4j.torch.Torch;
import org.bytedeco.pytorch.Tensor;

import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * int8 quantization during {@link Module#stream}: each layer (the outermost module that quantizes itself) is quantized
 * the moment its last tensor is loaded, so its float weights are freed before the next layer is read, and the freed
 * memory goes back to the kernel every {@link #TRIM_EVERY_BYTES}.
 */
final class LayerByLayer {
    /**
     * How much freed float memory waits for {@code malloc_trim}: the holes freed layers leave between int8 ones are not
     * reused whole by the next float layers (a ViT-B/32's load peak: 668 MB never trimming, 519 MB every 4 layers, 514
     * MB every layer; each trim costs ~0.1 s, so every layer took 6.3 s instead of 3.4 s).
     */
    private static final long TRIM_EVERY_BYTES = 96L << 20;

    private final Module root;
    private final Map<String, Module> layerOf = new HashMap<>();
    /** Each layer's tensors still to come; a layer of none of the tensors to load is quantized by {@link #finish}. */
    private final Map<Module, Integer> pending = new IdentityHashMap<>();
    private final Set<Module> done = Collections.newSetFromMap(new IdentityHashMap<>());
    private final Set<Module> dropped = Collections.newSetFromMap(new IdentityHashMap<>());
    private long untrimmed;

    /** For loading {@code toLoad} (names the checkpoint has and the work wants) into {@code root}. */
    LayerByLayer(Module root, Set<String> toLoad, Predicate<String> wanted) {
        this.root = root;
        root.collectLayers("", null, layerOf, pending);
        layerOf.forEach((k, layer) -> {
            if (toLoad.contains(k)) pending.merge(layer, 1, Integer::sum);
            if (!wanted.test(k)) dropped.add(layer);
        });
    }

    /** Tensor {@code name} is in place: quantizes its layer if it was the layer's last. */
    void loaded(String name, Tensor value) {
        Module layer = layerOf.get(name);
        if (layer == null) return;
        untrimmed += value.nbytes();
        if (pending.merge(layer, -1, Integer::sum) != 0) return;
        Module.quantizeChild(layer);
        done.add(layer);
        if (untrimmed >= TRIM_EVERY_BYTES) {
            Torch.trimMemory();
            untrimmed = 0;
        }
    }

    /**
     * Quantizes the layers no loaded tensor completed (none of theirs in the checkpoint, or only optional ones), except
     * those of a dropped tower; marks the model int8 and hands the last freed memory back.
     */
    void finish() {
        pending.keySet().forEach(layer -> {
            if (!done.contains(layer) && !dropped.contains(layer)) Module.quantizeChild(layer);
        });
        root.markInt8();
        Torch.trimMemory();
    }
}
