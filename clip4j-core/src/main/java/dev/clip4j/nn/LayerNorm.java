package dev.clip4j.nn;

import dev.clip4j.torch.DType;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * CLIP's LayerNorm subclass: computed in float32 whatever the input type (eps 1e-5), output in the input's type;
 * its weights stay float32.
 * A float64 model (exactness tests) keeps float64 throughout.
 */
public final class LayerNorm extends Module {
    static final double EPS = 1e-5;
    private final int width;

    public LayerNorm(int width) {
        this.width = width;
        parameter("weight", Init.ones(width));
        parameter("bias", Init.zeros(width));
    }

    public Tensor forward(Tensor x) {
        DType type = Tensors.dtype(x);
        if (type == DType.F32 || type == DType.F64) return NN.layerNorm(x, p("weight"), p("bias"), EPS);
        // a bf16 model: libtorch's mixed-type kernel reads bf16, computes the statistics and the affine map in
        // float32 and writes bf16, in one pass instead of three (cast up, normalise, cast down: 2.6-3.7x slower at
        // ViT-B/32's [800, 768]); it differs from the cast path only by float32 rounding of its intermediate terms.
        // Autocast runs layer_norm in float32 whatever its input, so there the explicit casts stay.
        if (type == DType.BF16 && !dev.clip4j.torch.Autocast.active()) return NN.layerNorm(x, p("weight"), p("bias"), EPS);
        return Tensors.to(NN.layerNorm(Tensors.to(x, DType.F32), p("weight"), p("bias"), EPS), type);
    }

    /** The same normalisation over the last axis in an ONNX graph (float32, as the forward computes it). */
    public String onnx(dev.clip4j.onnx.OnnxGraph g, String x) {
        return g.op("LayerNormalization", java.util.Map.of("axis", -1L, "epsilon", EPS), x, g.weight(p("weight")), g.weight(p("bias")));
    }

    @Override
    protected boolean keepsFloat32(String name) {
        return true;
    }

    @Override
    protected Module blank() {
        return new LayerNorm(width);
    }
}
