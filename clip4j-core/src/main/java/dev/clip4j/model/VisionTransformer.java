package dev.clip4j.model;

import dev.clip4j.torch.DType;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * CLIP's ViT image tower: patch convolution (no bias), class token, positional embedding, ln_pre, transformer,
 * ln_post on the class token, projection.
 */
final class VisionTransformer extends Module {
    private final int patch;
    private final int width;
    private final LayerNorm lnPre;
    private final Transformer transformer;
    private final LayerNorm lnPost;

    VisionTransformer(ParameterStore store, String prefix, int resolution, int patch, int width, int layers, int heads,
                      int outputDim) {
        super(store, prefix);
        this.patch = patch;
        this.width = width;
        int grid = resolution / patch;
        double scale = Math.pow(width, -0.5);
        param("class_embedding", Init.normal(scale, width));
        param("positional_embedding", Init.normal(scale, (long) grid * grid + 1, width));
        param("proj", Init.normal(scale, width, outputDim));
        param("conv1.weight", Init.uniform(1.0 / Math.sqrt(3.0 * patch * patch), width, 3, patch, patch));
        lnPre = new LayerNorm(store, prefix + "ln_pre.", width);
        transformer = new Transformer(store, prefix + "transformer.", width, layers, heads);
        lnPost = new LayerNorm(store, prefix + "ln_post.", width);
    }

    Transformer transformer() {
        return transformer;
    }

    /** images: [B, 3, R, R] normalised; returns [B, output_dim]. */
    Tensor forward(Tensor images) {
        Tensor w = p("conv1.weight");
        Tensor x = NN.conv2d(images.to(w.scalar_type()), w, null, patch, 0); // [B, width, g, g]
        long b = x.size(0);
        x = x.reshape(b, width, -1).permute(0, 2, 1);                       // [B, g*g, width]
        Tensor cls = p("class_embedding").to(x.scalar_type()).reshape(1, 1, width).expand(b, 1, width);
        x = Tensors.cat(1, cls, x);
        x = x.add(p("positional_embedding").to(x.scalar_type()));
        x = lnPre.forward(x);
        x = transformer.forwardAt(x, null, Tensors.zeros(DType.I64, b)); // the class token
        x = lnPost.forward(x);
        return x.matmul(p("proj").to(x.scalar_type()));
    }
}
