package dev.clip4j.nn;

import dev.clip4j.torch.NN;
import org.bytedeco.pytorch.Tensor;

/** {@code nn.Linear}: {@code x @ weight.T + bias}. */
public final class Linear extends Module {
    private final long in, out;
    private final boolean bias;

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
        return NN.linear(x, weight(), bias());
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
