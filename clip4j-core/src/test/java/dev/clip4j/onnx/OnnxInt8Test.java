package dev.clip4j.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import dev.clip4j.Fixtures;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.QuantizationError;
import dev.clip4j.torch.QuantizedLinear;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import dev.clip4j.torch.Torch;
import dev.clip4j.torch.Grad;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * int8 linear layers on ONNX Runtime (DynamicQuantizeMatMul over the layer's int8 values): the error against float32
 * is the one its quantization predicts ({@link QuantizationError}, 8-bit activations), with the values as int8 (where
 * the CPU has VNNI) or as uint8 around 128 (everywhere); whole models are in {@code Int8Test}.
 */
class OnnxInt8Test {
    private static final long M = 400, K = 768, N = 1024;

    /** One int8 layer as a graph: x [M, K] → [M, N]; the layer's error against float32 {@code x @ w.T}. */
    private static double[] layerError(boolean signedWeights) throws Exception {
        try (Scope s = Scope.open()) {
            Torch.manualSeed(7);
            Tensor x = Tensors.randn(M, K), w = Ops.mul(Tensors.randn(N, K), 0.03), b = Ops.mul(Tensors.randn(N), 0.1);
            OnnxGraph g = new OnnxGraph("layer", signedWeights);
            g.output(g.quantizedMatMul(g.input("x", false, "rows", K), QuantizedLinear.pack(w, b).weights()), "y", "rows", N);
            try (OnnxSession session = OnnxSession.of(g);
                 OnnxTensor in = OnnxTensor.createTensor(OrtEnvironment.getEnvironment(), Tensors.floatBuffer(x), new long[] {M, K})) {
                Tensor y = session.run(Map.of("x", in), M);
                return new double[] {QuantizationError.relativeRms(y.sub(b), NN.linear(x, w, null)),
                        QuantizationError.predicted(x, w, false)};
            }
        }
    }

    @Test
    void uint8WeightsTrackFloat32OnEveryCpu() throws Exception {
        double[] e = layerError(false);
        assertThat(e[0]).as("relative RMS error (predicted %.4f)", e[1]).isBetween(0.8 * e[1], 1.2 * e[1]);
    }

    /** int8 weights where this CPU has VNNI: elsewhere MLAS's 16-bit pair sums may saturate, so clip4j does not use them. */
    @Test
    void thisCpusChoiceTracksFloat32() throws Exception {
        double[] e = layerError(!QuantizedLinear.reducedRange());
        assertThat(e[0]).as("relative RMS error (predicted %.4f)", e[1]).isBetween(0.8 * e[1], 1.2 * e[1]);
    }

    /**
     * A model that ran on libtorch first (FBGEMM packed its layers and dropped the plain numbers) writes the same
     * graph from the unpacked numbers: its features on ONNX Runtime are identical.
     */
    @ParameterizedTest
    @ValueSource(strings = {"vit", "resnet"})
    void graphFromFbgemmPackingIsTheSame(String tower) {
        ClipModel fresh = OnnxClipTest.load(tower).toInt8(), used = OnnxClipTest.load(tower).toInt8();
        Map<String, Tensor> in = Fixtures.tensors(tower + "/inputs.safetensors");
        Grad.noGrad(() -> {
            used.encodeImage(in.get("images"));
            used.encodeText(in.get("text"));
            try (OnnxClip a = OnnxClip.of(fresh); OnnxClip b = OnnxClip.of(used)) {
                assertThat(Tensors.toFloats(b.encodeImage(in.get("images")))).containsExactly(Tensors.toFloats(a.encodeImage(in.get("images"))));
                assertThat(Tensors.toFloats(b.encodeText(in.get("text")))).containsExactly(Tensors.toFloats(a.encodeText(in.get("text"))));
            }
            return null;
        });
    }
}
