package dev.clip4j.model;

import dev.clip4j.torch.Ops;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * ModifiedResNet's attention pooling: the spatial mean is prepended as a token, positional embeddings added, and
 * one multi-head attention query (the mean token) with separate q/k/v projections reads out the image embedding.
 */
final class AttentionPool2d extends Module {
    private final int embedDim;
    private final int heads;

    AttentionPool2d(ParameterStore store, String prefix, int spacialDim, int embedDim, int heads, int outputDim) {
        super(store, prefix);
        this.embedDim = embedDim;
        this.heads = heads;
        param("positional_embedding", Init.normal(1.0 / Math.sqrt(embedDim), (long) spacialDim * spacialDim + 1, embedDim));
        double std = Math.pow(embedDim, -0.5);
        for (String n : new String[] {"k_proj", "q_proj", "v_proj"}) {
            param(n + ".weight", Init.normal(std, embedDim, embedDim));
            param(n + ".bias", Init.uniform(1.0 / Math.sqrt(embedDim), embedDim));
        }
        param("c_proj.weight", Init.normal(std, outputDim, embedDim));
        param("c_proj.bias", Init.uniform(1.0 / Math.sqrt(embedDim), outputDim));
    }

    /** x: [N, C, H, W]; returns [N, output_dim]. */
    Tensor forward(Tensor x) {
        long n = x.size(0);
        x = x.flatten(2, -1).permute(0, 2, 1);                          // [N, HW, C]
        x = Tensors.cat(1, x.mean(new long[] {1}, true, null), x);        // [N, HW+1, C]
        x = x.add(p("positional_embedding").to(x.scalar_type()));
        long l = x.size(1);
        int d = embedDim / heads;
        double scale = 1.0 / Math.sqrt(d); // folded into the q projection, as in MultiheadAttention
        Tensor q = NN.linear(x.narrow(1, 0, 1), Ops.mul(p("q_proj.weight"), scale), Ops.mul(p("q_proj.bias"), scale))
                .reshape(n, 1, heads, d).transpose(1, 2);
        Tensor k = NN.linear(x, p("k_proj.weight"), p("k_proj.bias")).reshape(n, l, heads, d).transpose(1, 2);
        Tensor v = NN.linear(x, p("v_proj.weight"), p("v_proj.bias")).reshape(n, l, heads, d).transpose(1, 2);
        Tensor out = AttentionKernel.attend(q, k, v, null).transpose(1, 2).reshape(n, embedDim);
        return NN.linear(out, p("c_proj.weight"), p("c_proj.bias"));
    }
}
