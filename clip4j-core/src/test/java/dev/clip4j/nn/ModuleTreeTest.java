package dev.clip4j.nn;

import dev.clip4j.Fixtures;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.checkpoint.Safetensors;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The module tree: OpenAI's names, the text tower's seams, copies, freezing, dtype rules and attention masks. */
class ModuleTreeTest {
    static ClipModel load(String tower) {
        return ClipCheckpoint.loadModel(Fixtures.path(tower + "/weights.safetensors"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"vit", "resnet"})
    void stateDictNamesAreOpenAisExactly(String tower) {
        Set<String> reference = new TreeSet<>(Safetensors.read(Fixtures.path(tower + "/weights.safetensors")).keySet());
        assertThat(new TreeSet<>(load(tower).stateDict().keySet())).isEqualTo(reference);
    }

    /** CoOp's seam: the text tower on embeddings gives encode_text bit for bit. */
    @Test
    void textTowerOnEmbeddingsEqualsEncodeTextBitForBit() {
        ClipModel m = load("vit");
        Tensor tokens = Fixtures.tensors("vit/inputs.safetensors").get("text");
        Grad.noGrad(() -> {
            float[] viaTokens = Tensors.toFloats(m.encodeText(tokens));
            float[] viaEmbeddings = Tensors.toFloats(m.text().encode(m.text().embed(tokens), NN.argmax(tokens, -1), true));
            assertThat(viaEmbeddings).containsExactly(viaTokens);
            return null;
        });
    }

    /** The full-sequence forward, read at the end-of-text position and projected, equals the pooled path. */
    @Test
    void fullSequenceAtEotEqualsPooledPath() {
        ClipModel m = load("vit");
        Tensor tokens = Fixtures.tensors("vit/inputs.safetensors").get("text");
        Grad.noGrad(() -> {
            Tensor all = m.text().encodeTokens(tokens); // [B, L, W] after ln_final
            Tensor atEot = MultiheadAttention.gather(all, NN.argmax(tokens, -1)).matmul(m.text().stateDict().get("text_projection"));
            dev.clip4j.Parity.assertClose("full sequence at EOT", atEot, m.encodeText(tokens), 1e-6);
            return null;
        });
    }

    @Test
    void copyEqualsTheOriginalAndSharesNoStorage() {
        ClipModel m = load("resnet").train(true);
        ClipModel c = m.copy();
        assertThat(c.isTraining()).isTrue();
        Map<String, Tensor> a = m.stateDict(), b = c.stateDict();
        assertThat(b.keySet()).containsExactlyElementsOf(a.keySet());
        a.forEach((k, v) -> {
            assertThat(b.get(k).data_ptr().address()).as(k).isNotEqualTo(v.data_ptr().address());
            assertThat(Tensors.dtype(b.get(k))).isEqualTo(Tensors.dtype(v));
            if (Tensors.dtype(v).isFloatingPoint()) assertThat(Tensors.toFloats(b.get(k))).as(k).containsExactly(Tensors.toFloats(v));
        });
        Grad.noGrad(() -> Ops.fill_(c.logitScaleParameter(), 1.0));
        assertThat(Tensors.item(m.logitScaleParameter())).isNotEqualTo(1.0f);
        c.visual().freeze();
        assertThat(m.visual().namedParameters().values()).allMatch(Tensor::requires_grad);
    }

    @Test
    void freezingATowerStopsItsGradients() {
        ClipModel m = load("vit").train(true);
        m.visual().freeze();
        Map<String, Tensor> in = Fixtures.tensors("vit/inputs.safetensors");
        dev.clip4j.train.ContrastiveLoss.of(m.forward(in.get("images").narrow(0, 0, 4), in.get("text").narrow(0, 0, 4))).backward();
        m.namedParameters().forEach((name, p) -> {
            boolean hasGrad = dev.clip4j.torch.Autograd.hasGrad(p);
            assertThat(hasGrad).as(name).isEqualTo(!name.startsWith("visual."));
        });
        m.visual().unfreeze();
        assertThat(m.visual().namedParameters().values()).allMatch(Tensor::requires_grad);
    }

    @Test
    void bf16ConversionFollowsModuleTypes() {
        ClipModel m = load("resnet").toBf16();
        m.stateDict().forEach((name, t) -> {
            boolean norm = name.matches(".*(ln_\\w+|bn\\d|downsample\\.1)\\..*") || name.equals("logit_scale");
            DType want = Tensors.dtype(t).isFloatingPoint() ? (norm ? DType.F32 : DType.BF16) : DType.I64;
            assertThat(Tensors.dtype(t)).as(name).isEqualTo(want);
        });
    }

    /** Cross-attention with identity projections against the softmax computed by hand; padding removes a key. */
    @Test
    void crossAttentionAndKeyPaddingAgainstAHandComputation() {
        MultiheadAttention mha = new MultiheadAttention(2, 1);
        Grad.noGrad(() -> {
            float[] eye3 = {1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1};
            mha.stateDict().get("in_proj_weight").copy_(Tensors.fromFloats(eye3, 6, 2));
            mha.stateDict().get("in_proj_bias").zero_();
            mha.stateDict().get("out_proj.weight").copy_(Tensors.fromFloats(new float[] {1, 0, 0, 1}, 2, 2));
            mha.stateDict().get("out_proj.bias").zero_();
            return null;
        });
        float[] q = {1, 2}, k1 = {0.5f, -1}, k2 = {3, 1};
        Tensor query = Tensors.fromFloats(q, 1, 1, 2);
        Tensor memory = Tensors.fromFloats(new float[] {k1[0], k1[1], k2[0], k2[1]}, 1, 2, 2);
        double s1 = (q[0] * k1[0] + q[1] * k1[1]) / Math.sqrt(2), s2 = (q[0] * k2[0] + q[1] * k2[1]) / Math.sqrt(2);
        double w1 = Math.exp(s1) / (Math.exp(s1) + Math.exp(s2)), w2 = 1 - w1;
        float[] out = Grad.noGrad(() -> Tensors.toFloats(mha.forward(query, memory, null, null)));
        assertThat((double) out[0]).isCloseTo(w1 * k1[0] + w2 * k2[0], within(1e-6));
        assertThat((double) out[1]).isCloseTo(w1 * k1[1] + w2 * k2[1], within(1e-6));
        // the second key is padding: all weight on the first
        Tensor padding = Tensors.fromLongs(new long[] {0, 1}, 1, 2);
        float[] padded = Grad.noGrad(() -> Tensors.toFloats(mha.forward(query, memory, null, padding)));
        assertThat(padded).containsExactly(k1[0], k1[1]);
        // an additive mask of -inf on the first key: all weight on the second
        Tensor mask = Tensors.fromFloats(new float[] {Float.NEGATIVE_INFINITY, 0}, 1, 2);
        float[] masked = Grad.noGrad(() -> Tensors.toFloats(mha.forward(query, memory, mask, null)));
        assertThat(masked).containsExactly(k2[0], k2[1]);
    }

    /** A cross-attention block runs, and with padded memory positions ignores what they hold. */
    @Test
    void crossAttentionBlockIgnoresPaddedMemory() {
        dev.clip4j.torch.Torch.manualSeed(1);
        ResidualAttentionBlock block = new ResidualAttentionBlock(8, 2, true);
        Tensor x = Tensors.randn(2, 3, 8), memory = Tensors.randn(2, 4, 8);
        Tensor pad = Tensors.fromLongs(new long[] {0, 0, 1, 1, 0, 0, 0, 1}, 2, 4);
        Tensor other = memory.clone();
        Grad.noGrad(() -> other.narrow(1, 3, 1).fill_(new org.bytedeco.pytorch.Scalar(100.0)));
        float[] a = Grad.noGrad(() -> Tensors.toFloats(block.forward(x, null, null, memory, pad)));
        float[] b = Grad.noGrad(() -> Tensors.toFloats(block.forward(x, null, null, other, pad)));
        assertThat(b).containsExactly(a);
        float[] c = Grad.noGrad(() -> Tensors.toFloats(block.forward(x, null, null, other, null)));
        assertThat(c).isNotEqualTo(a);
    }
}
