package dev.clip4j.nn;

import dev.clip4j.torch.DType;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.Tensors;
import dev.clip4j.torch.Torch;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Map;

import static dev.clip4j.Parity.relativeErrorF64;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * In evaluation the constants that training folds into weights (attention's 1/sqrt(head_dim), QuickGELU's 1.702) are
 * applied by the GEMMs or the attention instead: checked in float64 against torch 1.13's formulas written out op by
 * op — attention bit for bit (q divided after the projection, or the scores scaled by a power of two), the block
 * within float64 rounding — and against training mode's folded weights.
 */
class EvalConstantsTest {
    private static final long BATCH = 3, TOKENS = 7;

    /** nn.MultiheadAttention of torch 1.13: q = (x W_qᵀ + b_q) / sqrt(d), softmax(q kᵀ + mask) v, out_proj. */
    private static Tensor referenceAttention(Map<String, Tensor> p, Tensor x, Tensor mask, int width, int heads) {
        int d = width / heads;
        Tensor qkv = NN.linear(x, p.get("in_proj_weight"), p.get("in_proj_bias"));
        Tensor q = Ops.div(qkv.narrow(-1, 0, width), Math.sqrt(d)).reshape(BATCH, TOKENS, heads, d).transpose(1, 2);
        Tensor k = qkv.narrow(-1, width, width).reshape(BATCH, TOKENS, heads, d).transpose(1, 2);
        Tensor v = qkv.narrow(-1, 2L * width, width).reshape(BATCH, TOKENS, heads, d).transpose(1, 2);
        Tensor scores = q.matmul(k.transpose(-2, -1)).add(mask);
        Tensor out = NN.softmax(scores, -1).matmul(v).transpose(1, 2).reshape(BATCH, TOKENS, width);
        return NN.linear(out, p.get("out_proj.weight"), p.get("out_proj.bias"));
    }

    /** CLIP's MLP: c_proj(h · sigmoid(1.702 h)) with h = c_fc(x). */
    private static Tensor referenceMlp(Map<String, Tensor> p, Tensor x) {
        Tensor h = NN.linear(x, p.get("c_fc.weight"), p.get("c_fc.bias"));
        Tensor gelu = h.mul(Ops.mul(h, 1.702).sigmoid());
        return NN.linear(gelu, p.get("c_proj.weight"), p.get("c_proj.bias"));
    }

    private static Tensor causalMask() {
        float[] m = new float[(int) (TOKENS * TOKENS)];
        for (int i = 0; i < TOKENS; i++) for (int j = i + 1; j < TOKENS; j++) m[(int) (i * TOKENS + j)] = Float.NEGATIVE_INFINITY;
        return Tensors.to(Tensors.fromFloats(m, TOKENS, TOKENS), DType.F64);
    }

    /** Head width 64 (the scale 1/8 on the scores), 32 and 24 (q divided by sqrt(d), as the reference divides it). */
    @ParameterizedTest
    @CsvSource({"128, 2", "64, 2", "48, 2"})
    void evaluationComputesTheReferenceArithmetic(int width, int heads) {
        Torch.manualSeed(width);
        ResidualAttentionBlock block = new ResidualAttentionBlock(width, heads);
        block.to(DType.F64);
        Tensor x = Tensors.to(Tensors.randn(BATCH, TOKENS, width), DType.F64), mask = causalMask();
        Grad.noGrad(() -> {
            Map<String, Tensor> attn = block.attn().stateDict(), mlp = block.mlp().stateDict();
            // attention: the same operations on the same values, so the same bits
            Tensor reference = referenceAttention(attn, x, mask, width, heads);
            block.train(false);
            assertThat(Tensors.toDoubles(block.attn().forward(x, mask))).containsExactly(Tensors.toDoubles(reference));
            // the MLP: 1.702 applied by the GEMMs instead of inside the sigmoid's argument, float64 rounding apart
            assertThat(relativeErrorF64(block.mlp().forward(x), referenceMlp(mlp, x))).isLessThan(1e-13);
            // the whole block, in evaluation and with training's folded weights
            Map<String, Tensor> all = block.stateDict();
            Tensor h = x.add(referenceAttention(attn, NN.layerNorm(x, all.get("ln_1.weight"), all.get("ln_1.bias"), LayerNorm.EPS), mask, width, heads));
            Tensor expected = h.add(referenceMlp(mlp, NN.layerNorm(h, all.get("ln_2.weight"), all.get("ln_2.bias"), LayerNorm.EPS)));
            assertThat(relativeErrorF64(block.forward(x, mask), expected)).isLessThan(1e-13);
            block.train(true);
            assertThat(relativeErrorF64(block.forward(x, mask), expected)).isLessThan(1e-13);
            return null;
        });
    }
}
