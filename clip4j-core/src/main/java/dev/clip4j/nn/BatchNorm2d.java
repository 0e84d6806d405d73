package dev.clip4j.nn;

import dev.clip4j.torch.DType;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/** {@code nn.BatchNorm2d} (eps 1e-5, momentum 0.1): running statistics in eval mode, batch statistics in training. */
public final class BatchNorm2d extends Module {
    private final int channels;

    public BatchNorm2d(int channels) {
        this.channels = channels;
        parameter("weight", Init.ones(channels));
        parameter("bias", Init.zeros(channels));
        buffer("running_mean", Init.zeros(channels));
        buffer("running_var", Init.ones(channels));
        buffer("num_batches_tracked", Tensors.zeros(DType.I64));
    }

    public Tensor forward(Tensor x) {
        boolean training = isTraining();
        if (training) Grad.noGrad(() -> Ops.add_(p("num_batches_tracked"), 1));
        return NN.batchNorm(x, p("weight"), p("bias"), p("running_mean"), p("running_var"), training, 0.1, 1e-5);
    }

    /** The scale γ (ModifiedResNet zeroes the last one of each bottleneck). */
    /** Evaluation mode's normalisation (running statistics) in an ONNX graph. */
    public String onnx(dev.clip4j.onnx.OnnxGraph g, String x) {
        return g.op("BatchNormalization", java.util.Map.of("epsilon", 1e-5), x, g.weight(p("weight")), g.weight(p("bias")),
                g.weight(p("running_mean")), g.weight(p("running_var")));
    }

    public Tensor weight() {
        return p("weight");
    }

    @Override
    protected boolean keepsFloat32(String name) {
        return true;
    }

    @Override
    protected Module blank() {
        return new BatchNorm2d(channels);
    }
}
