package dev.clip4j.model;

import dev.clip4j.nn.AttentionKernel;

import dev.clip4j.Fixtures;
import dev.clip4j.Parity;
import dev.clip4j.checkpoint.ArchitectureInference;
import dev.clip4j.checkpoint.Safetensors;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.LinkedHashMap;
import java.util.Map;

class ClipModelParityTest {
    static ClipModel load(String tower) {
        Map<String, Tensor> w = Safetensors.read(Fixtures.path(tower + "/weights.safetensors"));
        Map<String, long[]> shapes = new LinkedHashMap<>();
        w.forEach((k, v) -> shapes.put(k, Tensors.shape(v)));
        return ClipModel.fromStateDict(ArchitectureInference.infer(shapes, tower), w, tower);
    }

    @ParameterizedTest
    @ValueSource(strings = {"vit", "resnet"})
    void safetensorsWeightsReproduceReferenceOutputs(String tower) {
        assertReproducesReference(tower);
    }

    /** Both attention kernels (the fused default runs with scale 1 on a pre-scaled q) give the reference outputs. */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void eitherAttentionKernelReproducesReferenceOutputs(boolean fused) {
        AttentionKernel.with(fused ? new AttentionKernel.Policy(true, true, false) : AttentionKernel.Policy.PLAIN, () -> {
            assertReproducesReference("vit");
            assertReproducesReference("resnet");
            return null;
        });
    }

    /**
     * One input at a time, in evaluation mode: fewer tokens than the width, so the constants scale the activations
     * instead of the weights (batch-1 inference); the same reference rows to 1e-5.
     */
    @ParameterizedTest
    @ValueSource(strings = {"vit", "resnet"})
    void oneInputAtATimeReproducesReferenceRows(String tower) {
        ClipModel model = load(tower);
        Map<String, Tensor> in = Fixtures.tensors(tower + "/inputs.safetensors");
        Map<String, Tensor> out = Fixtures.tensors(tower + "/outputs.safetensors");
        Grad.noGrad(() -> {
            for (int i = 0; i < in.get("images").size(0); i++) {
                Parity.assertClose("encode_image row " + i, model.encodeImage(in.get("images").narrow(0, i, 1)),
                        out.get("encode_image").narrow(0, i, 1), 1e-5);
            }
            for (int i = 0; i < in.get("text").size(0); i++) {
                Parity.assertClose("encode_text row " + i, model.encodeText(in.get("text").narrow(0, i, 1)),
                        out.get("encode_text").narrow(0, i, 1), 1e-5);
            }
            return null;
        });
    }

    private static void assertReproducesReference(String tower) {
        ClipModel model = load(tower);
        Map<String, Tensor> in = Fixtures.tensors(tower + "/inputs.safetensors");
        Map<String, Tensor> out = Fixtures.tensors(tower + "/outputs.safetensors");
        Grad.noGrad(() -> {
            Parity.assertClose("encode_image", model.encodeImage(in.get("images")), out.get("encode_image"), 1e-5);
            Parity.assertClose("encode_text", model.encodeText(in.get("text")), out.get("encode_text"), 1e-5);
            ClipModel.Logits logits = model.forward(in.get("images"), in.get("text")).logits();
            Parity.assertClose("logits_per_image", logits.perImage(), out.get("logits_per_image"), 1e-5);
            Parity.assertClose("logits_per_text", logits.perText(), out.get("logits_per_text"), 1e-5);
        });
    }
}
