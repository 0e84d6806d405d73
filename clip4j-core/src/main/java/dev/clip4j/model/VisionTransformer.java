package dev.clip4j.model;

import dev.clip4j.nn.Init;
import dev.clip4j.nn.LayerNorm;
import dev.clip4j.nn.Module;
import dev.clip4j.nn.PatchEmbedding;
import dev.clip4j.nn.Transformer;
import dev.clip4j.onnx.OnnxGraph;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * CLIP's ViT image tower: patch convolution (no bias), class token, positional embedding, ln_pre, transformer,
 * ln_post on the class token, projection.
 */
public final class VisionTransformer extends ImageTower {
    private final int resolution, patch, width, layers, heads, outputDim;
    private final PatchEmbedding conv1;
    private final LayerNorm lnPre;
    private final Transformer transformer;
    private final LayerNorm lnPost;

    public VisionTransformer(int resolution, int patch, int width, int layers, int heads, int outputDim) {
        this.resolution = resolution;
        this.patch = patch;
        this.width = width;
        this.layers = layers;
        this.heads = heads;
        this.outputDim = outputDim;
        int grid = resolution / patch;
        double scale = Math.pow(width, -0.5);
        parameter("class_embedding", Init.normal(scale, width));
        parameter("positional_embedding", Init.normal(scale, (long) grid * grid + 1, width));
        parameter("proj", Init.normal(scale, width, outputDim));
        conv1 = child("conv1", new PatchEmbedding(3, width, patch));
        lnPre = child("ln_pre", new LayerNorm(width));
        transformer = child("transformer", new Transformer(width, layers, heads));
        lnPost = child("ln_post", new LayerNorm(width));
    }

    public Transformer transformer() {
        return transformer;
    }

    /** Patches, class token and positions, ln_pre: the transformer's input [B, 1 + g², width]. */
    private Tensor tokensIn(Tensor images) {
        // the positional embedding fixes the grid, and int8's patches are cut from whole sides
        if (images.dim() != 4 || images.size(2) != resolution || images.size(3) != resolution) {
            throw new IllegalArgumentException("images must be [B, 3, " + resolution + ", " + resolution + "], got "
                    + java.util.Arrays.toString(Tensors.shape(images)));
        }
        Tensor x = conv1.forward(images); // [B, g*g, width]
        long b = x.size(0);
        Tensor cls = p("class_embedding").to(x.scalar_type()).reshape(1, 1, width).expand(b, 1, width);
        x = Tensors.cat(1, cls, x);
        x = x.add(p("positional_embedding").to(x.scalar_type()));
        return lnPre.forward(x);
    }

    /**
     * The patch embeddings without the class token, [B, g², width] (conv1, positions, ln_pre): a single-stream
     * model's visual tokens.
     */
    public Tensor patchEmbeddings(Tensor images) {
        Tensor x = tokensIn(images);
        return x.narrow(1, 1, x.size(1) - 1);
    }

    /** A tower of zero blocks is a single-stream model's patch embedder: it has no image features to give. */
    private void requireBlocks() {
        if (layers == 0) {
            throw new IllegalStateException("this image tower has no transformer blocks (a single-stream model's patch "
                    + "embedder): it cannot embed images on its own");
        }
    }

    @Override
    public Tensor encode(Tensor images) {
        requireBlocks();
        Tensor x = tokensIn(images);
        x = transformer.forwardPooled(x, null, Tensors.zeros(DType.I64, x.size(0))); // the class token
        x = lnPost.forward(x);
        return x.matmul(p("proj").to(x.scalar_type()));
    }

    /**
     * {@link #encode} in an ONNX graph. The class token enters as a zero row padded in front of the patches, and the
     * positions' first row carries {@code class_embedding} (added in float32 here, as the forward adds it), so the
     * graph needs no batch-sized concatenation.
     */
    @Override
    public String onnx(OnnxGraph g, String images) {
        requireBlocks();
        long tokens = (long) (resolution / patch) * (resolution / patch) + 1;
        String x = conv1.onnx(g, images, resolution / patch);                                     // [B, g², width]
        x = g.op("Pad", x, g.longs(0, 1, 0, 0, 0, 0));                                             // [B, 1 + g², width]
        Tensor positions = Tensors.to(p("positional_embedding"), DType.F32).clone();
        positions.narrow(0, 0, 1).add_(Tensors.to(p("class_embedding"), DType.F32).reshape(1, width));
        x = lnPre.onnx(g, g.reshape(g.add(x, g.weight(positions)), -1, width));                   // rows [B·L, width]
        String classToken = g.longsShaped(new long[] {0});
        x = transformer.onnxPooled(g, x, tokens, null, v -> g.gather(g.reshape(v, -1, tokens, width), classToken, 1), null);
        return g.matmul(lnPost.onnx(g, x), g.weight(p("proj")));
    }

    @Override
    public Tensor encodePooled(Tensor images) {
        requireBlocks();
        Tensor x = tokensIn(images);
        return lnPost.forward(transformer.forwardPooled(x, null, Tensors.zeros(DType.I64, x.size(0))));
    }

    public int width() {
        return width;
    }

    @Override
    public Tensor encodeTokens(Tensor images) {
        requireBlocks();
        return lnPost.forward(transformer.forward(tokensIn(images), null));
    }

    /** Tokens from {@link #encodeTokens} (or the pooled class token) projected into the shared space by {@code proj}. */
    public Tensor project(Tensor tokens) {
        return tokens.matmul(p("proj").to(tokens.scalar_type()));
    }

    @Override
    public Tensor encodeTokenFeatures(Tensor images) {
        Tensor x = encodeTokens(images);
        return x.matmul(p("proj").to(x.scalar_type()));
    }

    @Override
    protected boolean decays(String name, Tensor parameter) {
        return name.equals("proj");
    }

    @Override
    protected Module blank() {
        return new VisionTransformer(resolution, patch, width, layers, heads, outputDim);
    }
}
