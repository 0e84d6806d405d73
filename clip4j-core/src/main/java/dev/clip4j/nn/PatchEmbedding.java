package dev.clip4j.nn;

import dev.clip4j.torch.NN;
import dev.clip4j.torch.QuantizedLinear;
import org.bytedeco.pytorch.Tensor;

/**
 * A ViT's patch embedding: CLIP's {@code conv1}, an {@code nn.Conv2d} without bias whose stride is its kernel, so each
 * output is one linear map of one patch. It gives the patches as rows, [B, g², out] (g = side / patch), and keeps the
 * convolution's weight [out, in, patch, patch] under the same name, so checkpoints load as before.
 *
 * <p>In int8 ({@link Module#quantizeInt8}) it is that linear map on the unfolded patches, [B·g², in·patch²], quantized
 * as every linear layer is ({@link QuantizedLinear}): the patch convolution in float32 had been 11 % of ONNX Runtime's
 * time for an int8 ViT-B/32, the most of any op after the quantized GEMMs (bench/RESULTS.md). Its activations are
 * the normalised pixels, quantized per call over their own range: ~4/255 a step for CLIP's normalisation (twice that
 * with libtorch's 7-bit activations on CPUs without VNNI), next to ~3.7/255 for one step of an 8-bit pixel.
 */
public final class PatchEmbedding extends Module {
    private final int in, out, patch;
    private QuantizedLinear int8;

    public PatchEmbedding(int in, int out, int patch) {
        this.in = in;
        this.out = out;
        this.patch = patch;
        parameter("weight", Init.uniform(1.0 / Math.sqrt((double) in * patch * patch), out, in, patch, patch));
    }

    /**
     * Images [B, in, side, side] of any float dtype to patch rows [B, g², out], in the weight's dtype (float) or float32
     * (int8, which quantizes whatever it is given).
     */
    public Tensor forward(Tensor images) {
        long b = images.size(0);
        if (int8 != null) {
            return int8.forward(unfold(images)).reshape(b, -1, out);
        }
        Tensor x = NN.conv2d(images.to(weight().scalar_type()), weight(), null, patch, 0); // [B, out, g, g]
        return x.reshape(b, out, -1).permute(0, 2, 1);
    }

    /** [B, in, g·p, g·p] to one row per patch, [B·g², in·p²], each row ordered as the weight's (in, row, column). */
    private Tensor unfold(Tensor images) {
        long b = images.size(0), g = images.size(2) / patch;
        return images.reshape(b, in, g, patch, g, patch).permute(0, 2, 4, 1, 3, 5)
                .reshape(b * g * g, (long) in * patch * patch);
    }

    /**
     * The same in an ONNX graph: images [B, in, g·p, g·p] to rows [B, g², out]. The patches are unfolded into rows and
     * multiplied by the flattened weight in one GEMM, float32 or int8: ONNX Runtime's convolution ran this as one small
     * product per image (49 columns for ViT-B/32), and its output then needed a transpose besides.
     */
    public String onnx(dev.clip4j.onnx.OnnxGraph g, String images, long grid) {
        String cut = g.reshape(images, 0, in, grid, patch, grid, patch);
        String patches = g.reshape(g.transpose(cut, 0, 2, 4, 1, 3, 5), -1, (long) in * patch * patch);
        String rows = int8 != null ? g.quantizedMatMul(patches, int8.weights())
                : Linear.onnx(g, patches, weight().reshape(out, (long) in * patch * patch), null);
        return g.reshape(rows, -1, grid * grid, out);
    }

    /** Packs the weight, flattened to [out, in·p²], as an int8 linear layer and frees the float weight. */
    @Override
    protected void quantizeOwn() {
        int8 = own(QuantizedLinear.pack(weight().reshape(out, (long) in * patch * patch), null));
        release("weight");
    }

    public Tensor weight() {
        return p("weight");
    }

    @Override
    protected Module blank() {
        return new PatchEmbedding(in, out, patch);
    }
}
