package dev.clip4j.onnx;

import dev.clip4j.Fixtures;
import dev.clip4j.Parity;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Grad;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;

/**
 * The graphs clip4j writes, run by ONNX Runtime, reproduce OpenAI's reference outputs and the libtorch path to 1e-5
 * relative (float32 GEMMs of other summation orders differ in the last bits only).
 */
class OnnxClipTest {
    /** ONNX Runtime's natives load from JavaCPP's cache, not from a fresh temporary directory per process. */
    @org.junit.jupiter.api.Test
    void nativesLoadFromTheCache() throws Exception {
        try (OnnxClip onnx = OnnxClip.of(load("vit"))) {
            Grad.noGrad(() -> onnx.encodeImage(Fixtures.tensors("vit/inputs.safetensors").get("images")));
        }
        String dir = System.getProperty(OnnxNatives.PATH_PROPERTY);
        org.assertj.core.api.Assertions.assertThat(dir).contains(".javacpp");
        org.assertj.core.api.Assertions.assertThat(java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps")))
                .anyMatch(l -> l.endsWith(dir + "/libonnxruntime.so")).noneMatch(l -> l.contains("onnxruntime-java"));
    }

    static ClipModel load(String tower) {
        return dev.clip4j.checkpoint.ClipCheckpoint.loadModel(Fixtures.path(tower + "/weights.safetensors"));
    }

    /**
     * Closing while another thread runs a forward (a service stopping mid-query) waits for it, then refuses: the
     * session is never freed under a run (that would be a native crash, not an exception).
     */
    @org.junit.jupiter.api.Test
    void closeWaitsForForwardsInFlight() throws Exception {
        Tensor images = Fixtures.tensors("vit/inputs.safetensors").get("images");
        ClipModel model = load("vit");
        for (int round = 0; round < 8; round++) { // the race is timing-dependent: without the guard, ~1 in 3 rounds crashed
            OnnxClip onnx = OnnxClip.of(model);
            java.util.concurrent.atomic.AtomicInteger forwards = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicReference<Throwable> ended = new java.util.concurrent.atomic.AtomicReference<>();
            Thread runner = new Thread(() -> {
                try {
                    while (true) {
                        try (dev.clip4j.torch.Scope s = dev.clip4j.torch.Scope.open()) {
                            Grad.noGrad(() -> onnx.encodeImage(images));
                        }
                        forwards.incrementAndGet();
                    }
                } catch (Throwable t) {
                    ended.set(t);
                }
            });
            runner.start();
            while (forwards.get() < 3) Thread.sleep(1);
            onnx.close();
            runner.join(10_000);
            org.assertj.core.api.Assertions.assertThat(ended.get()).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("closed");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"vit", "resnet"})
    void reproducesReferenceAndLibtorch(String tower) {
        ClipModel model = load(tower);
        Map<String, Tensor> in = Fixtures.tensors(tower + "/inputs.safetensors");
        Map<String, Tensor> out = Fixtures.tensors(tower + "/outputs.safetensors");
        try (OnnxClip onnx = OnnxClip.of(model)) {
            Grad.noGrad(() -> {
                Tensor images = onnx.encodeImage(in.get("images")), texts = onnx.encodeText(in.get("text"));
                Parity.assertClose("encode_image vs reference", images, out.get("encode_image"), 1e-5);
                Parity.assertClose("encode_text vs reference", texts, out.get("encode_text"), 1e-5);
                Parity.assertClose("encode_image vs libtorch", images, model.encodeImage(in.get("images")), 1e-5);
                Parity.assertClose("encode_text vs libtorch", texts, model.encodeText(in.get("text")), 1e-5);
                for (int i = 0; i < in.get("images").size(0); i++) { // batch 1 too
                    Parity.assertClose("encode_image row " + i, onnx.encodeImage(in.get("images").narrow(0, i, 1)),
                            out.get("encode_image").narrow(0, i, 1), 1e-5);
                }
                return null;
            });
        }
        // closing the sessions releases their handles only: the model's own weights live on
        Grad.noGrad(() -> {
            Parity.assertClose("encode_image after close", model.encodeImage(in.get("images")), out.get("encode_image"), 1e-5);
            return null;
        });
    }
}
