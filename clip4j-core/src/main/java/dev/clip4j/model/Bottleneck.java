package dev.clip4j.model;

import dev.clip4j.torch.NN;
import org.bytedeco.pytorch.Tensor;

/**
 * ModifiedResNet's bottleneck: 1x1, 3x3, 1x1 convolutions with BatchNorm and ReLU; strided blocks downsample with
 * an average pool before the last convolution (anti-aliasing) and on the shortcut ({@code downsample.0} conv,
 * {@code downsample.1} BatchNorm after an AvgPool2d).
 */
final class Bottleneck extends Module {
    static final int EXPANSION = 4;
    private final int stride;
    private final BatchNorm2d bn1, bn2, bn3, downsampleBn;

    Bottleneck(ParameterStore store, String prefix, int inplanes, int planes, int stride) {
        super(store, prefix);
        this.stride = stride;
        param("conv1.weight", Init.uniform(1.0 / Math.sqrt(inplanes), planes, inplanes, 1, 1));
        bn1 = new BatchNorm2d(store, prefix + "bn1.", planes);
        param("conv2.weight", Init.uniform(1.0 / Math.sqrt(planes * 9.0), planes, planes, 3, 3));
        bn2 = new BatchNorm2d(store, prefix + "bn2.", planes);
        param("conv3.weight", Init.uniform(1.0 / Math.sqrt(planes), (long) planes * EXPANSION, planes, 1, 1));
        bn3 = new BatchNorm2d(store, prefix + "bn3.", planes * EXPANSION);
        if (stride > 1 || inplanes != planes * EXPANSION) {
            param("downsample.0.weight", Init.uniform(1.0 / Math.sqrt(inplanes), (long) planes * EXPANSION, inplanes, 1, 1));
            downsampleBn = new BatchNorm2d(store, prefix + "downsample.1.", planes * EXPANSION);
        } else {
            downsampleBn = null;
        }
    }

    Tensor forward(Tensor x) {
        Tensor out = bn1.forward(NN.conv2d(x, p("conv1.weight"), null, 1, 0)).relu();
        out = bn2.forward(NN.conv2d(out, p("conv2.weight"), null, 1, 1)).relu();
        if (stride > 1) out = NN.avgPool2d(out, stride);
        out = bn3.forward(NN.conv2d(out, p("conv3.weight"), null, 1, 0));
        Tensor identity = x;
        if (downsampleBn != null) {
            Tensor pooled = stride > 1 ? NN.avgPool2d(x, stride) : x;
            identity = downsampleBn.forward(NN.conv2d(pooled, p("downsample.0.weight"), null, 1, 0));
        }
        return out.add(identity).relu();
    }

    void zeroLastBatchNormGain() {
        Init.fillZeros(store.get(prefix + "bn3.weight"));
    }
}
