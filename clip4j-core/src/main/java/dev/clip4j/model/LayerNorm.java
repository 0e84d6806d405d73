package dev.clip4j.model;

import dev.clip4j.torch.DType;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/** CLIP's LayerNorm subclass: computed in float32 whatever the input type (eps 1e-5), cast back after. */
final class LayerNorm extends Module {
    static final double EPS = 1e-5;

    LayerNorm(ParameterStore store, String prefix, int width) {
        super(store, prefix);
        param("weight", Init.ones(width));
        param("bias", Init.zeros(width));
    }

    Tensor forward(Tensor x) {
        DType type = Tensors.dtype(x);
        if (type == DType.F32) return NN.layerNorm(x, p("weight"), p("bias"), EPS);
        return Tensors.to(NN.layerNorm(Tensors.to(x, DType.F32), p("weight"), p("bias"), EPS), type);
    }
}
