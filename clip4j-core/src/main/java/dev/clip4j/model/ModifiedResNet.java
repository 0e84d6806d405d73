package dev.clip4j.model;

import dev.clip4j.nn.BatchNorm2d;
import dev.clip4j.nn.Conv2d;
import dev.clip4j.nn.Module;
import dev.clip4j.nn.ModuleList;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Scope;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * CLIP's ResNet image tower: a stem of three 3x3 convolutions and an average pool instead of one 7x7 and a max
 * pool, four stages of anti-aliased {@link Bottleneck}s, and {@link AttentionPool2d} instead of global pooling.
 */
public final class ModifiedResNet extends ImageTower {
    private final int[] layers;
    private final int outputDim, heads, resolution, width;
    private final Conv2d conv1, conv2, conv3;
    private final BatchNorm2d bn1, bn2, bn3;
    private final List<Bottleneck> blocks = new ArrayList<>();
    private final AttentionPool2d attnpool;

    public ModifiedResNet(int[] layers, int outputDim, int heads, int resolution, int width) {
        this.layers = layers.clone();
        this.outputDim = outputDim;
        this.heads = heads;
        this.resolution = resolution;
        this.width = width;
        conv1 = child("conv1", new Conv2d(3, width / 2, 3, 2, 1));
        bn1 = child("bn1", new BatchNorm2d(width / 2));
        conv2 = child("conv2", new Conv2d(width / 2, width / 2, 3, 1, 1));
        bn2 = child("bn2", new BatchNorm2d(width / 2));
        conv3 = child("conv3", new Conv2d(width / 2, width, 3, 1, 1));
        bn3 = child("bn3", new BatchNorm2d(width));
        for (int stage = 0; stage < 4; stage++) {
            int planes = width << stage, stride = stage > 0 ? 2 : 1;
            int firstIn = stage == 0 ? width : (width << (stage - 1)) * Bottleneck.EXPANSION;
            ModuleList<Bottleneck> layer = child("layer" + (stage + 1), new ModuleList<>(layers[stage],
                    i -> i == 0 ? new Bottleneck(firstIn, planes, stride) : new Bottleneck(planes * Bottleneck.EXPANSION, planes, 1)));
            blocks.addAll(layer.items());
        }
        attnpool = child("attnpool", new AttentionPool2d(resolution / 32, width * 32, heads, outputDim));
        for (Bottleneck b : blocks) b.zeroLastBatchNormGain();
    }

    private Tensor features(Tensor images) {
        Tensor x = images.to(conv1.weight().scalar_type());
        x = bn1.forward(conv1.forward(x)).relu();
        x = bn2.forward(conv2.forward(x)).relu();
        x = bn3.forward(conv3.forward(x)).relu();
        x = NN.avgPool2d(x, 2);
        for (Bottleneck b : blocks) {
            try (Scope scope = Scope.open()) { // release each block's intermediates as it ends (see Transformer)
                x = scope.keep(b.forward(x));
            }
        }
        return x;
    }

    @Override
    public Tensor encode(Tensor images) {
        return attnpool.forward(features(images));
    }

    /** {@link #encode} in an ONNX graph (BatchNorm with its running statistics: evaluation mode). */
    @Override
    public String onnx(dev.clip4j.onnx.OnnxGraph g, String images) {
        String x = g.op("Relu", bn1.onnx(g, conv1.onnx(g, images)));
        x = g.op("Relu", bn2.onnx(g, conv2.onnx(g, x)));
        x = g.op("Relu", bn3.onnx(g, conv3.onnx(g, x)));
        x = Bottleneck.onnxAvgPool(g, x, 2);
        for (Bottleneck b : blocks) x = b.onnx(g, x);
        return attnpool.onnx(g, x);
    }

    @Override
    public Tensor encodePooled(Tensor images) {
        return encode(images);
    }

    /** The final feature map's positions, [B, H·W, C] (before attention pooling). */
    @Override
    public Tensor encodeTokens(Tensor images) {
        return features(images).flatten(2, -1).permute(0, 2, 1);
    }

    @Override
    public Tensor encodeTokenFeatures(Tensor images) {
        return attnpool.projectTokens(features(images));
    }

    @Override
    protected Module blank() {
        return new ModifiedResNet(layers, outputDim, heads, resolution, width);
    }
}
