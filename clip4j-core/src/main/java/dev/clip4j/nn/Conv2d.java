package dev.clip4j.nn;

import dev.clip4j.torch.NN;
import org.bytedeco.pytorch.Tensor;

/** {@code nn.Conv2d} without bias (as every convolution in CLIP), square kernel; PyTorch's default init. */
public final class Conv2d extends Module {
    private final int in, out, kernel, stride, padding;

    public Conv2d(int in, int out, int kernel, int stride, int padding) {
        this.in = in;
        this.out = out;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        parameter("weight", Init.uniform(1.0 / Math.sqrt((double) in * kernel * kernel), out, in, kernel, kernel));
    }

    public Tensor forward(Tensor x) {
        return NN.conv2d(x, weight(), null, stride, padding);
    }

    /** The same convolution in an ONNX graph (NCHW). */
    public String onnx(dev.clip4j.onnx.OnnxGraph g, String x) {
        return g.op("Conv", java.util.Map.of("kernel_shape", new long[] {kernel, kernel}, "strides", new long[] {stride, stride},
                "pads", new long[] {padding, padding, padding, padding}), x, g.weight(weight()));
    }

    public Tensor weight() {
        return p("weight");
    }

    @Override
    protected Module blank() {
        return new Conv2d(in, out, kernel, stride, padding);
    }
}
