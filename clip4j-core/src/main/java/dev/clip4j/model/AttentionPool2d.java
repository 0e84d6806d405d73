package dev.clip4j.model;

import dev.clip4j.nn.AttentionKernel;
import dev.clip4j.nn.Init;
import dev.clip4j.nn.Linear;
import dev.clip4j.nn.Module;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/**
 * ModifiedResNet's attention pooling: the spatial mean is prepended as a token, positional embeddings added, and
 * one multi-head attention query (the mean token) with separate q/k/v projections reads out the image embedding.
 */
final class AttentionPool2d extends Module {
    private final int spacialDim, embedDim, heads, outputDim;
    private final Linear kProj, qProj, vProj, cProj;

    AttentionPool2d(int spacialDim, int embedDim, int heads, int outputDim) {
        this.spacialDim = spacialDim;
        this.embedDim = embedDim;
        this.heads = heads;
        this.outputDim = outputDim;
        parameter("positional_embedding", Init.normal(1.0 / Math.sqrt(embedDim), (long) spacialDim * spacialDim + 1, embedDim));
        double std = Math.pow(embedDim, -0.5), bound = 1.0 / Math.sqrt(embedDim);
        kProj = child("k_proj", new Linear(Init.normal(std, embedDim, embedDim), Init.uniform(bound, embedDim)));
        qProj = child("q_proj", new Linear(Init.normal(std, embedDim, embedDim), Init.uniform(bound, embedDim)));
        vProj = child("v_proj", new Linear(Init.normal(std, embedDim, embedDim), Init.uniform(bound, embedDim)));
        cProj = child("c_proj", new Linear(Init.normal(std, outputDim, embedDim), Init.uniform(bound, outputDim)));
    }

    /** The input tokens: spatial mean first, then every position, with positional embeddings: [N, HW+1, C]. */
    Tensor tokens(Tensor x) {
        x = x.flatten(2, -1).permute(0, 2, 1);                          // [N, HW, C]
        x = Tensors.cat(1, x.mean(new long[] {1}, true, null), x);        // [N, HW+1, C]
        return x.add(p("positional_embedding").to(x.scalar_type()));
    }

    /** x: [N, C, H, W]; returns [N, output_dim]. */
    Tensor forward(Tensor x) {
        long n = x.size(0);
        x = tokens(x);
        long l = x.size(1);
        int d = embedDim / heads;
        double scale = 1.0 / Math.sqrt(d); // folded into the q projection, as in MultiheadAttention
        Tensor q = NN.linear(x.narrow(1, 0, 1), Ops.mul(qProj.weight(), scale), Ops.mul(qProj.bias(), scale))
                .reshape(n, 1, heads, d).transpose(1, 2);
        Tensor k = kProj.forward(x).reshape(n, l, heads, d).transpose(1, 2);
        Tensor v = vProj.forward(x).reshape(n, l, heads, d).transpose(1, 2);
        Tensor out = AttentionKernel.attend(q, k, v, null).transpose(1, 2).reshape(n, embedDim);
        return cProj.forward(out);
    }

    /** {@link #forward} in an ONNX graph: x [N, C, H, W] → [N, output_dim]. */
    String onnx(dev.clip4j.onnx.OnnxGraph g, String x) {
        long l = (long) spacialDim * spacialDim + 1;
        int d = embedDim / heads;
        String t = g.transpose(g.reshape(x, 0, embedDim, -1), 0, 2, 1);                           // [N, HW, C]
        String mean = g.op("ReduceMean", java.util.Map.of("axes", new long[] {1}, "keepdims", 1L), t);
        t = g.add(g.op("Concat", java.util.Map.of("axis", 1L), mean, t), g.weight(p("positional_embedding")));
        String rows = g.reshape(t, -1, embedDim);                                                 // [N·L, C]
        double scale = 1.0 / Math.sqrt(d);
        String first = g.gather(t, g.longsShaped(new long[] {0}), 1);                             // [N, C]
        String q = g.reshape(Linear.onnx(g, first, Ops.mul(qProj.weight(), scale), Ops.mul(qProj.bias(), scale)), -1, heads, 1, d);
        String k = g.transpose(g.reshape(kProj.onnx(g, rows), -1, l, heads, d), 0, 2, 3, 1);      // [N, H, d, L]
        String v = g.transpose(g.reshape(vProj.onnx(g, rows), -1, l, heads, d), 0, 2, 1, 3);      // [N, H, L, d]
        String out = g.matmul(g.softmax(g.matmul(q, k)), v);                                     // [N, H, 1, d]
        return cProj.onnx(g, g.reshape(out, -1, embedDim));
    }

    /** x: [N, C, H, W]; every token (mean first) through the value and output projections: [N, HW+1, output_dim]. */
    Tensor projectTokens(Tensor x) {
        return cProj.forward(vProj.forward(tokens(x)));
    }

    /** int8: k, v and the output projection (over every token); q sees one token per image and stays float32. */
    @Override
    protected void quantizeOwn() {
        quantizeChild(kProj);
        quantizeChild(vProj);
        quantizeChild(cProj);
    }

    @Override
    protected boolean decays(String name, Tensor parameter) {
        return false; // positional_embedding
    }

    @Override
    protected Module blank() {
        return new AttentionPool2d(spacialDim, embedDim, heads, outputDim);
    }
}
