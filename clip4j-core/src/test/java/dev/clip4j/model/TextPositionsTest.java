package dev.clip4j.model;

import dev.clip4j.tokenizer.ClipTokenizer;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import dev.clip4j.torch.Torch;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The causal text tower runs only the positions up to the batch's last end-of-text token (TextTransformer#encode). */
class TextPositionsTest {
    @Test
    void positionsAfterTheLastEndOfTextAreLeftOut() {
        try (Scope s = Scope.open()) {
            Tensor embeddings = Tensors.randn(3, 77, 8);
            Tensor kept = TextTransformer.throughLastEndOfText(embeddings, Tensors.fromLongs(new long[] {4, 11, 6}, 3));
            assertThat(Tensors.shape(kept)).containsExactly(3, 12, 8);
            assertThat(Tensors.toFloats(kept)).containsExactly(Tensors.toFloats(embeddings.narrow(1, 0, 12)));
            Tensor full = TextTransformer.throughLastEndOfText(embeddings, Tensors.fromLongs(new long[] {76, 3, 2}, 3));
            assertThat(Tensors.shape(full)).containsExactly(3, 77, 8);
        }
    }

    /**
     * The positions left out are never computed: NaN embeddings after the last end of text would reach every feature
     * through the attention's products (NaN · 0 is NaN, masked or not) if they were.
     */
    @Test
    void positionsLeftOutAreNeverComputed() {
        try (Scope s = Scope.open()) {
            Torch.manualSeed(4);
            ClipModel model = ClipModel.create(ClipConfig.builtIn("tiny-vit"));
            Grad.noGrad(() -> {
                Tensor e = model.text().withPositions(Tensors.randn(2, 77, 128));
                float[] values = Tensors.toFloats(e);
                for (int row = 0; row < 2; row++) {
                    for (int i = 10 * 128; i < 77 * 128; i++) values[row * 77 * 128 + i] = Float.NaN;
                }
                Tensor f = model.text().encode(Tensors.fromFloats(values, 2, 77, 128), Tensors.fromLongs(new long[] {9, 5}, 2), true);
                for (float v : Tensors.toFloats(f)) assertThat(v).isFinite();
                return null;
            });
        }
    }

    /**
     * ONNX Runtime's text graph takes rows of any length: the same short and context-filling prompts, alone and side by
     * side, give libtorch's features to 1e-5 (the ONNX backend's tolerance).
     */
    @Test
    void theOnnxTextGraphRunsTheSamePositions() {
        try (Scope s = Scope.open()) {
            Torch.manualSeed(5);
            ClipModel model = ClipModel.create(ClipConfig.builtIn("tiny-vit"));
            Tensor both = prompts(model);
            try (dev.clip4j.onnx.OnnxClip onnx = dev.clip4j.onnx.OnnxClip.of(model)) {
                Grad.noGrad(() -> {
                    for (Tensor t : new Tensor[] {both, both.narrow(0, 0, 1), both.narrow(0, 1, 1)}) {
                        dev.clip4j.Parity.assertClose("encode_text", onnx.encodeText(t), model.encodeText(t), 1e-5);
                    }
                    return null;
                });
            }
        }
    }

    /** A short prompt and one that fills the whole context, [2, 77]. */
    private static Tensor prompts(ClipModel model) {
        String longPrompt = "a photo of " + "a very long and winding description ".repeat(20);
        long[][] ids = ClipTokenizer.getDefault().tokenize(List.of("a photo of a cat.", longPrompt), model.contextLength(), true);
        assertThat(ids[1][model.contextLength() - 1]).isEqualTo(ClipTokenizer.EOT); // the long prompt fills the context
        long[] flat = new long[2 * model.contextLength()];
        System.arraycopy(ids[0], 0, flat, 0, model.contextLength());
        System.arraycopy(ids[1], 0, flat, model.contextLength(), model.contextLength());
        return Tensors.fromLongs(flat, 2, model.contextLength());
    }

    /**
     * A short prompt alone (its tower run over its own ~5 positions) and beside a prompt that fills the whole context
     * (all 77 run) give the same feature to float rounding: the positions left out never reach it.
     */
    @Test
    void aShortPromptsFeatureDoesNotDependOnThePositionsLeftOut() {
        try (Scope s = Scope.open()) {
            Torch.manualSeed(3);
            ClipModel model = ClipModel.create(ClipConfig.builtIn("tiny-vit"));
            Tensor both = prompts(model);
            Tensor alone = both.narrow(0, 0, 1);
            Grad.noGrad(() -> {
                float[] beside = Tensors.toFloats(model.encodeText(both).narrow(0, 0, 1));
                float[] own = Tensors.toFloats(model.encodeText(alone));
                double num = 0, den = 0;
                for (int i = 0; i < own.length; i++) {
                    num += (own[i] - beside[i]) * (double) (own[i] - beside[i]);
                    den += beside[i] * (double) beside[i];
                }
                // float32 sums over at most 77 keys and 4·width terms reordered: a few units of float32's epsilon
                assertThat(Math.sqrt(num / den)).isLessThan(1e-6);
                return null;
            });
        }
    }
}
