package dev.clip4j.model;

import dev.clip4j.torch.NN;
import dev.clip4j.torch.Scope;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * CLIP's ResNet image tower: a stem of three 3x3 convolutions and an average pool instead of one 7x7 and a max
 * pool, four stages of anti-aliased {@link Bottleneck}s, and {@link AttentionPool2d} instead of global pooling.
 */
final class ModifiedResNet extends Module {
    private final BatchNorm2d bn1, bn2, bn3;
    private final List<Bottleneck> blocks = new ArrayList<>();
    private final AttentionPool2d attnpool;

    ModifiedResNet(ParameterStore store, String prefix, int[] layers, int outputDim, int heads, int resolution, int width) {
        super(store, prefix);
        param("conv1.weight", Init.uniform(1.0 / Math.sqrt(27.0), width / 2, 3, 3, 3));
        bn1 = new BatchNorm2d(store, prefix + "bn1.", width / 2);
        param("conv2.weight", Init.uniform(1.0 / Math.sqrt(width / 2 * 9.0), width / 2, width / 2, 3, 3));
        bn2 = new BatchNorm2d(store, prefix + "bn2.", width / 2);
        param("conv3.weight", Init.uniform(1.0 / Math.sqrt(width / 2 * 9.0), width, width / 2, 3, 3));
        bn3 = new BatchNorm2d(store, prefix + "bn3.", width);
        int inplanes = width;
        for (int stage = 0; stage < 4; stage++) {
            int planes = width << stage;
            for (int i = 0; i < layers[stage]; i++) {
                int stride = (i == 0 && stage > 0) ? 2 : 1;
                blocks.add(new Bottleneck(store, prefix + "layer" + (stage + 1) + "." + i + ".", inplanes, planes, stride));
                inplanes = planes * Bottleneck.EXPANSION;
            }
        }
        int embedDim = width * 32;
        attnpool = new AttentionPool2d(store, prefix + "attnpool.", resolution / 32, embedDim, heads, outputDim);
        for (Bottleneck b : blocks) b.zeroLastBatchNormGain();
    }

    Tensor forward(Tensor images) {
        Tensor w = p("conv1.weight");
        Tensor x = images.to(w.scalar_type());
        x = bn1.forward(NN.conv2d(x, w, null, 2, 1)).relu();
        x = bn2.forward(NN.conv2d(x, p("conv2.weight"), null, 1, 1)).relu();
        x = bn3.forward(NN.conv2d(x, p("conv3.weight"), null, 1, 1)).relu();
        x = NN.avgPool2d(x, 2);
        for (Bottleneck b : blocks) {
            try (Scope scope = Scope.open()) { // release each block's intermediates as it ends (see Transformer)
                x = scope.keep(b.forward(x));
            }
        }
        return attnpool.forward(x);
    }
}
