package dev.clip4j.onnx;

import dev.clip4j.Fixtures;
import dev.clip4j.checkpoint.ModelFingerprint;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A model handed over to ONNX Runtime: each float32 tower's session reads the weights from a private file it owns and
 * the model's libtorch copy is freed, so the weights are in memory once. The features are those of the in-place
 * session bit for bit (the same graph over the same values), and whatever still needs the freed weights refuses.
 */
class OnnxHandOverTest {
    /** However the sessions use the threads (a batch in slices, one thread each, for SLICES: the fixtures hold several rows). */
    @ParameterizedTest
    @CsvSource({"vit, SPIN", "vit, SLEEP", "vit, SLICES", "resnet, SPIN", "resnet, SLEEP", "resnet, SLICES"})
    void handedOverTowersComputeWhatInPlaceOnesDoAndFreeTheModelsCopy(String tower, OnnxThreads idle) {
        Map<String, Tensor> in = Fixtures.tensors(tower + "/inputs.safetensors");
        ClipModel shared = OnnxClipTest.load(tower), handed = OnnxClipTest.load(tower);
        try (OnnxClip inPlace = OnnxClip.of(shared); OnnxClip owning = OnnxClip.handOver(handed, idle)) {
            Grad.noGrad(() -> {
                assertThat(Tensors.toFloats(owning.encodeImage(in.get("images"))))
                        .containsExactly(Tensors.toFloats(inPlace.encodeImage(in.get("images"))));
                assertThat(Tensors.toFloats(owning.encodeText(in.get("text"))))
                        .containsExactly(Tensors.toFloats(inPlace.encodeText(in.get("text"))));
                // the sessions keep running once the model's copies are gone
                assertThat(Tensors.toFloats(owning.encodeImage(in.get("images").narrow(0, 0, 1))))
                        .containsExactly(Tensors.toFloats(inPlace.encodeImage(in.get("images").narrow(0, 0, 1))));
                return null;
            });
        }
        assertThat(handed.visual().stateDict().values()).allMatch(t -> t.numel() == 0);
        assertThat(handed.text().stateDict().values()).allMatch(t -> t.numel() == 0);
        assertThat(Tensors.item(handed.logitScale())).isEqualTo(Tensors.item(shared.logitScale())); // not a tower's
        Grad.noGrad(() -> {
            assertThatThrownBy(() -> handed.encodeImage(in.get("images"))).hasMessageContaining("image tower was handed to ONNX Runtime");
            assertThatThrownBy(() -> handed.encodeText(in.get("text"))).hasMessageContaining("text tower was handed to ONNX Runtime");
            return null;
        });
        assertThatThrownBy(() -> ModelFingerprint.of(handed)).hasMessageContaining("handed to ONNX Runtime");
        // the model shared with others keeps its weights: its libtorch forward still works
        Grad.noGrad(() -> assertThat(shared.encodeImage(in.get("images")).numel()).isPositive());
    }

    /** A tower not yet used keeps its libtorch weights: an image-only user never writes or frees the text tower. */
    @Test
    void onlyTheTowersUsedAreHandedOver() {
        ClipModel model = OnnxClipTest.load("vit");
        Map<String, Tensor> in = Fixtures.tensors("vit/inputs.safetensors");
        try (OnnxClip owning = OnnxClip.handOver(model)) {
            Grad.noGrad(() -> owning.encodeImage(in.get("images")));
        }
        assertThat(model.text().stateDict().values()).allMatch(t -> t.numel() > 0);
        Grad.noGrad(() -> assertThat(model.encodeText(in.get("text")).numel()).isPositive());
    }

    /**
     * The weights files and their directory are gone once the session is made: ONNX Runtime holds what it needs, and
     * no longer maps the GEMM weights it packed.
     */
    @Test
    void theTemporaryFilesAreDeleted() throws IOException {
        Path dir = Files.createTempDirectory("clip4j-handover-test");
        Path[] made = new Path[1];
        try (OnnxSession session = OnnxSession.owning(OnnxClip.imageGraph(OnnxClipTest.load("vit")),
                () -> {
                    dev.clip4j.io.ScratchDirectory d = dev.clip4j.io.ScratchDirectory.create(dir);
                    made[0] = d.path();
                    return d;
                }, () -> { })) {
            assertThat(made[0]).isNotNull().doesNotExist();
            assertThat(session).isNotNull();
            // ONNX Runtime unmapped every GEMM weight once packed: nothing keeps their deleted file alive
            assertThat(Files.readAllLines(Path.of("/proc/self/maps")))
                    .noneMatch(l -> l.contains(made[0].resolve(OnnxGraph.GEMM_WEIGHTS_FILE).toString()))
                    .anyMatch(l -> l.contains(made[0].resolve(OnnxGraph.OTHER_WEIGHTS_FILE).toString())); // biases, norms: kept mapped
        } finally {
            Files.deleteIfExists(dir);
        }
    }

    /**
     * A temporary directory that cannot be written (full, read-only) costs memory, not the work: the session reads the
     * weights in place, as for a shared model, and the source is not freed.
     */
    @Test
    void anUnwritableDirectoryFallsBackToReadingInPlace() {
        ClipModel model = OnnxClipTest.load("vit");
        Map<String, Tensor> in = Fixtures.tensors("vit/inputs.safetensors");
        AtomicBoolean freed = new AtomicBoolean();
        Tensor expected;
        try (OnnxClip inPlace = OnnxClip.of(model)) {
            expected = Grad.noGrad(() -> inPlace.encodeImage(in.get("images")));
        }
        try (OnnxSession session = OnnxSession.owning(OnnxClip.imageGraph(model), () -> {
            throw new IOException("No space left on device");
        }, () -> freed.set(true))) {
            Tensor got = Grad.noGrad(() -> imageFeatures(session, in.get("images")));
            assertThat(Tensors.toFloats(got)).containsExactly(Tensors.toFloats(expected));
        }
        assertThat(freed).isFalse();
        assertThat(model.visual().stateDict().values()).allMatch(t -> t.numel() > 0);
    }

    private static Tensor imageFeatures(OnnxSession session, Tensor images) {
        try (ai.onnxruntime.OnnxTensor t = ai.onnxruntime.OnnxTensor.createTensor(ai.onnxruntime.OrtEnvironment.getEnvironment(),
                Tensors.floatBuffer(images.contiguous()), Tensors.shape(images))) {
            return session.run(Map.of("images", t), images.size(0));
        } catch (ai.onnxruntime.OrtException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * An int8 model is handed over too: the same features as in place, bit for bit, then its int8 layers (values,
     * scales, biases) and float tensors are freed, on both weight encodings (int8 with VNNI, uint8 without).
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void int8ModelsAreHandedOverToo(boolean signedWeights) {
        Map<String, Tensor> in = Fixtures.tensors("vit/inputs.safetensors");
        ClipModel shared = OnnxClipTest.load("vit").toInt8(), handed = OnnxClipTest.load("vit").toInt8();
        Tensor expected;
        try (OnnxSession inPlace = OnnxSession.of(OnnxClip.imageGraph(shared, signedWeights))) {
            expected = Grad.noGrad(() -> imageFeatures(inPlace, in.get("images")));
        }
        AtomicBoolean freed = new AtomicBoolean();
        try (OnnxSession owning = OnnxSession.owning(OnnxClip.imageGraph(handed, signedWeights), () -> {
            handed.releaseTower(true, "handed to ONNX Runtime (test)");
            freed.set(true);
        })) {
            assertThat(freed).isTrue();
            Tensor got = Grad.noGrad(() -> imageFeatures(owning, in.get("images")));
            assertThat(Tensors.toFloats(got)).containsExactly(Tensors.toFloats(expected));
        }
        assertThat(handed.visual().stateDict().values()).allMatch(t -> t.numel() == 0);
        Grad.noGrad(() -> {
            assertThatThrownBy(() -> handed.encodeImage(in.get("images"))).hasMessageContaining("handed to ONNX Runtime (test)");
            assertThat(shared.encodeImage(in.get("images")).numel()).isPositive();
            return null;
        });
        try (OnnxClip viaClip = OnnxClip.handOver(OnnxClipTest.load("vit").toInt8())) { // the public path, this CPU's encoding
            Grad.noGrad(() -> viaClip.encodeImage(in.get("images")));
        }
    }

    /** {@code Clip.load} and {@code Clip.handOver} on the onnx backend hand the model over. */
    @Test
    void clipHandsOverWhatItOwnsOnly() {
        ClipModel handed = OnnxClipTest.load("vit");
        java.util.List<Path> photos = java.util.List.of(Fixtures.path("preprocess/astronaut.png"), Fixtures.path("preprocess/coffee.png"));
        try (dev.clip4j.Clip owning = dev.clip4j.Clip.handOver(handed, dev.clip4j.Precision.FP32, dev.clip4j.Backend.ONNX)) {
            float[][] first = owning.encodeImages(photos, true);
            assertThat(owning.encodeImages(photos, true)).isDeepEqualTo(first);
            Tensor images = Fixtures.tensors("vit/inputs.safetensors").get("images");
            assertThatThrownBy(() -> Grad.noGrad(() -> owning.model().encodeImage(images))).hasMessageContaining("handed to ONNX Runtime");
        }
    }
}
