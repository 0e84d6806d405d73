package dev.clip4j.nn;

import dev.clip4j.torch.NN;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.OneDnnLinear;
import dev.clip4j.torch.QuantizedLinear;
import org.bytedeco.pytorch.Tensor;

/**
 * CLIP's MLP ({@code c_fc}, QuickGELU, {@code c_proj}; width 4x). QuickGELU(h) = h·σ(1.702h) = silu(1.702h) / 1.702,
 * and both constants go where the wide activation never sees them: in training folded into the weights (c_fc scaled
 * by 1.702, c_proj by 1/1.702: one formula whose gradient reaches the weights), in evaluation into the two GEMMs'
 * alpha. The wide activation then sees a single fused silu instead of multiply, sigmoid, multiply (and their backward).
 */
public final class QuickGeluMlp extends Module {
    private static final double QUICK_GELU = 1.702;
    private final int width;
    private final Linear cFc, cProj;
    private QuantizedLinear fcInt8, projInt8;
    /** bf16 inference: both layers on oneDNN with the constants folded into its copies, silu fused into c_fc. */
    private final OneDnnLinear.Cache fcOneDnn = new OneDnnLinear.Cache(), projOneDnn = new OneDnnLinear.Cache();

    public QuickGeluMlp(int width) {
        this.width = width;
        cFc = child("c_fc", new Linear(width, 4 * width));
        cProj = child("c_proj", new Linear(4 * width, width));
    }

    public Tensor forward(Tensor x) {
        if (fcInt8 != null) return projInt8.forward(NN.silu(fcInt8.forward(x)));
        if (constantsOnGemms() && OneDnnLinear.applies(x)) {
            Tensor h = fcOneDnn.get(cFc.weight(), cFc.bias(), QUICK_GELU, QUICK_GELU).forwardSilu(x);
            return projOneDnn.get(cProj.weight(), cProj.bias(), 1 / QUICK_GELU, 1).forward(h);
        }
        if (constantsOnGemms()) {
            // alpha of each GEMM: 1.702 (x·Wᵀ) + 1.702 b, then (h·Wᵀ) / 1.702 + b; no copy of the 2 x 9 MB weights per
            // ViT-B block and no pass over the activations
            Tensor h = NN.silu(NN.linearScaled(x, cFc.weight(), Ops.mul(cFc.bias(), QUICK_GELU), QUICK_GELU));
            return NN.linearScaled(h, cProj.weight(), cProj.bias(), 1 / QUICK_GELU);
        }
        Tensor h = NN.silu(NN.linear(x, Ops.mul(cFc.weight(), QUICK_GELU), Ops.mul(cFc.bias(), QUICK_GELU)));
        return NN.linear(h, Ops.div(cProj.weight(), QUICK_GELU), cProj.bias());
    }

    /**
     * The MLP in an ONNX graph on rows [N, width]: QuickGELU written as {@code h * sigmoid(1.702 h)}, the pattern ONNX
     * Runtime fuses into one kernel; int8 as {@link #forward}, silu between layers with the constants folded in.
     */
    public String onnx(dev.clip4j.onnx.OnnxGraph g, String x) {
        if (fcInt8 != null) { // the constants are folded into the int8 layers: silu between them
            String h = g.quantizedMatMul(x, fcInt8.weights());
            return g.quantizedMatMul(g.mul(h, g.op("Sigmoid", h)), projInt8.weights());
        }
        String h = cFc.onnx(g, x);
        String gelu = g.mul(h, g.op("Sigmoid", g.mul(h, g.scalar(QUICK_GELU))));
        return cProj.onnx(g, gelu);
    }

    /** Both layers as int8, with the same folded constants as the float forward. */
    @Override
    protected void quantizeOwn() {
        fcInt8 = own(cFc.quantizeScaled(QUICK_GELU, QUICK_GELU));
        projInt8 = own(cProj.quantizeScaled(1 / QUICK_GELU, 1));
    }

    Linear cFc() {
        return cFc;
    }

    Linear cProj() {
        return cProj;
    }

    @Override
    protected Module blank() {
        return new QuickGeluMlp(width);
    }
}
