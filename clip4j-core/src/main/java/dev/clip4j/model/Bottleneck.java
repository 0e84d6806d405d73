package dev.clip4j.model;

import dev.clip4j.nn.BatchNorm2d;
import dev.clip4j.nn.Conv2d;
import dev.clip4j.nn.Init;
import dev.clip4j.nn.Module;
import dev.clip4j.torch.NN;
import org.bytedeco.pytorch.Tensor;

/**
 * ModifiedResNet's bottleneck: 1x1, 3x3, 1x1 convolutions with BatchNorm and ReLU; strided blocks downsample with
 * an average pool before the last convolution (anti-aliasing) and on the shortcut ({@code downsample.0} conv,
 * {@code downsample.1} BatchNorm after an AvgPool2d).
 */
final class Bottleneck extends Module {
    static final int EXPANSION = 4;
    private final int inplanes, planes, stride;
    private final Conv2d conv1, conv2, conv3;
    private final BatchNorm2d bn1, bn2, bn3;
    private final Downsample downsample;

    /** The shortcut's {@code 0} (1x1 conv) and {@code 1} (BatchNorm), as OpenAI's nn.Sequential names them. */
    static final class Downsample extends Module {
        private final int in, out;
        final Conv2d conv;
        final BatchNorm2d bn;

        Downsample(int in, int out) {
            this.in = in;
            this.out = out;
            conv = child("0", new Conv2d(in, out, 1, 1, 0));
            bn = child("1", new BatchNorm2d(out));
        }

        @Override
        protected Module blank() {
            return new Downsample(in, out);
        }
    }

    Bottleneck(int inplanes, int planes, int stride) {
        this.inplanes = inplanes;
        this.planes = planes;
        this.stride = stride;
        conv1 = child("conv1", new Conv2d(inplanes, planes, 1, 1, 0));
        bn1 = child("bn1", new BatchNorm2d(planes));
        conv2 = child("conv2", new Conv2d(planes, planes, 3, 1, 1));
        bn2 = child("bn2", new BatchNorm2d(planes));
        conv3 = child("conv3", new Conv2d(planes, planes * EXPANSION, 1, 1, 0));
        bn3 = child("bn3", new BatchNorm2d(planes * EXPANSION));
        downsample = stride > 1 || inplanes != planes * EXPANSION
                ? child("downsample", new Downsample(inplanes, planes * EXPANSION)) : null;
    }

    Tensor forward(Tensor x) {
        Tensor out = bn1.forward(conv1.forward(x)).relu();
        out = bn2.forward(conv2.forward(out)).relu();
        if (stride > 1) out = NN.avgPool2d(out, stride);
        out = bn3.forward(conv3.forward(out));
        Tensor identity = x;
        if (downsample != null) {
            Tensor pooled = stride > 1 ? NN.avgPool2d(x, stride) : x;
            identity = downsample.bn.forward(downsample.conv.forward(pooled));
        }
        return out.add(identity).relu();
    }

    /** {@link #forward} in an ONNX graph. */
    String onnx(dev.clip4j.onnx.OnnxGraph g, String x) {
        String out = g.op("Relu", bn1.onnx(g, conv1.onnx(g, x)));
        out = g.op("Relu", bn2.onnx(g, conv2.onnx(g, out)));
        if (stride > 1) out = onnxAvgPool(g, out, stride);
        out = bn3.onnx(g, conv3.onnx(g, out));
        String identity = x;
        if (downsample != null) {
            String pooled = stride > 1 ? onnxAvgPool(g, x, stride) : x;
            identity = downsample.bn.onnx(g, downsample.conv.onnx(g, pooled));
        }
        return g.op("Relu", g.add(out, identity));
    }

    /** {@code avg_pool2d(x, k)}: kernel and stride k, no padding. */
    static String onnxAvgPool(dev.clip4j.onnx.OnnxGraph g, String x, int k) {
        return g.op("AveragePool", java.util.Map.of("kernel_shape", new long[] {k, k}, "strides", new long[] {k, k}), x);
    }

    void zeroLastBatchNormGain() {
        Init.fillZeros(bn3.weight());
    }

    @Override
    protected Module blank() {
        return new Bottleneck(inplanes, planes, stride);
    }
}
