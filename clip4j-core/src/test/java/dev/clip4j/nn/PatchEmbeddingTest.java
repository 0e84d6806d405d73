package dev.clip4j.nn;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import dev.clip4j.onnx.OnnxGraph;
import dev.clip4j.onnx.OnnxSession;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.QuantizationError;
import dev.clip4j.torch.QuantizedLinear;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import dev.clip4j.torch.Torch;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A ViT's patch embedding as rows: in float32 the convolution's output, equal to a linear map of libtorch's own
 * {@code im2col} patches; in int8 that linear map quantized, on libtorch (FBGEMM) and on ONNX Runtime, each with the
 * error its quantization predicts ({@link QuantizationError}) against float32. The patches are unfolded by
 * clip4j's own reshape and transpose, so an unfolding in another order than the weight's would show as an error far
 * above the prediction.
 */
class PatchEmbeddingTest {
    private static final int IN = 3, OUT = 64, PATCH = 8, GRID = 4, BATCH = 5;

    /** libtorch's im2col patches as rows [B·g², in·p²], ordered as the weight is flattened (channel, row, column). */
    private static Tensor im2colRows(Tensor images) {
        long[] kernel = {PATCH, PATCH}, dilation = {1, 1}, padding = {0, 0};
        Tensor cols = torch.im2col(images, kernel, dilation, padding, PATCH, PATCH);
        return cols.permute(0, 2, 1).reshape(-1, (long) IN * PATCH * PATCH); // [B, in·p², g²] → rows
    }

    @Test
    void int8PatchRowsCarryOnlyTheirQuantizationError() throws Exception {
        try (Scope s = Scope.open()) {
            Torch.manualSeed(11);
            Tensor images = Tensors.randn(BATCH, IN, (long) GRID * PATCH, (long) GRID * PATCH);
            PatchEmbedding layer = new PatchEmbedding(IN, OUT, PATCH);
            Tensor w = layer.weight().detach().reshape(OUT, (long) IN * PATCH * PATCH).clone();
            Tensor rows = im2colRows(images);
            // FBGEMM's activations have 7 bits where the CPU lacks VNNI; ONNX Runtime's always 8 (QuantizedLinear)
            double predicted = QuantizationError.predicted(rows, w, QuantizedLinear.reducedRange());
            double predictedOnnx = QuantizationError.predicted(rows, w, false);
            layer.train(false);
            Tensor fp32 = Grad.noGrad(() -> layer.forward(images));
            assertThat(Tensors.shape(fp32)).containsExactly(BATCH, (long) GRID * GRID, OUT);
            Tensor linear = NN.linear(rows, w, null).reshape(BATCH, -1, OUT);
            assertThat(QuantizationError.relativeRms(fp32, linear))
                    .as("the convolution is the linear map of each patch").isLessThan(1e-6);

            Grad.noGrad(layer::quantizeInt8);
            assertThat(layer.weight().numel()).as("the float weight, freed").isZero();
            double onTorch = QuantizationError.relativeRms(Grad.noGrad(() -> layer.forward(images)), fp32);
            assertThat(onTorch).as("libtorch int8 (predicted %.4f)", predicted)
                    .isBetween(0.8 * predicted, 1.2 * predicted);

            OnnxGraph g = new OnnxGraph("patches");
            long side = (long) GRID * PATCH;
            String input = g.input("images", false, "batch", (long) IN, side, side);
            g.output(layer.onnx(g, input, GRID), "rows", "batch", (long) GRID * GRID, (long) OUT);
            try (OnnxSession session = OnnxSession.of(g);
                 OnnxTensor in = OnnxTensor.createTensor(OrtEnvironment.getEnvironment(), Tensors.floatBuffer(images),
                         Tensors.shape(images))) {
                Tensor onnx = session.run(Map.of("images", in), BATCH).reshape(BATCH, -1, OUT);
                double onOnnx = QuantizationError.relativeRms(onnx, fp32);
                assertThat(onOnnx).as("ONNX Runtime int8 (predicted %.4f)", predictedOnnx)
                        .isBetween(0.8 * predictedOnnx, 1.2 * predictedOnnx);
            }
        }
    }
}
