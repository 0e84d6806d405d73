package dev.clip4j.nn;

import dev.clip4j.torch.NN;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.OneDnnLinear;
import dev.clip4j.torch.QuantizedLinear;
import org.bytedeco.pytorch.Tensor;

/** {@code nn.Linear}: {@code x @ weight.T + bias}. */
public final class Linear extends Module {
    private final long in, out;
    private final boolean bias;
    private QuantizedLinear int8;
    /** bf16 inference's oneDNN copy of the weights, made on first use ({@link OneDnnLinear}). */
    private final OneDnnLinear.Cache oneDnn = new OneDnnLinear.Cache();

    /** PyTorch's default initialisation, U(±1/sqrt(in)) for weight and bias. */
    public Linear(int in, int out) {
        this(Init.uniform(1.0 / Math.sqrt(in), out, in), Init.uniform(1.0 / Math.sqrt(in), out));
    }

    /** With given initial values ([out, in] and [out], or a null bias for none), e.g. OpenAI's special inits. */
    public Linear(Tensor weight, Tensor bias) {
        this.out = weight.size(0);
        this.in = weight.size(1);
        this.bias = bias != null;
        parameter("weight", weight);
        if (bias != null) parameter("bias", bias);
    }

    public Tensor forward(Tensor x) {
        if (int8 != null) return int8.forward(x);
        if (!isTraining() && OneDnnLinear.applies(x)) return oneDnn.get(weight(), bias(), 1, 1).forward(x);
        return NN.linear(x, weight(), bias());
    }

    /**
     * The same layer in an ONNX graph, on rows {@code x} [N, in]: one Gemm with the weight as it is stored ([out, in],
     * transB), so writing the graph copies no weight; an int8 layer's quantized product.
     */
    public String onnx(dev.clip4j.onnx.OnnxGraph g, String x) {
        return int8 != null ? g.quantizedMatMul(x, int8.weights()) : onnx(g, x, weight(), bias());
    }

    /** {@code x @ weight.T + bias} as one ONNX Gemm on rows [N, in] (bias may be null). */
    public static String onnx(dev.clip4j.onnx.OnnxGraph g, String x, Tensor weight, Tensor bias) {
        java.util.Map<String, Object> transB = java.util.Map.of("transB", 1L);
        return bias == null ? g.op("Gemm", transB, x, g.weight(weight)) : g.op("Gemm", transB, x, g.weight(weight), g.weight(bias));
    }

    /** Packs the weight and bias as int8 and frees the float weight ({@link Module#quantizeInt8}). */
    @Override
    protected void quantizeOwn() {
        int8 = own(QuantizedLinear.pack(weight(), bias()));
        release("weight");
    }

    /** The weight packed for int8 with its row scaled by {@code scale} (a constant the caller folds in), then freed. */
    QuantizedLinear quantizeScaled(double scale, double biasScale) {
        QuantizedLinear q = QuantizedLinear.pack(Ops.mul(weight(), scale),
                bias() == null ? null : Ops.mul(bias(), biasScale));
        release("weight");
        return q;
    }

    public Tensor weight() {
        return p("weight");
    }

    /** The bias, or null for a layer without one. */
    public Tensor bias() {
        return bias ? p("bias") : null;
    }

    @Override
    protected Module blank() {
        return new Linear(Init.zeros(out, in), bias ? Init.zeros(out) : null);
    }
}
