package dev.clip4j;

import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.image.ImageInput;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Tensors;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The high-level API: images from paths, bytes or memory give the same features; the given model is never changed. */
class ClipApiTest {
    @Test
    void pathsBytesAndBufferedImagesGiveTheSameFeatures() throws Exception {
        Path png = Fixtures.path("preprocess/chelsea.png");
        Clip clip = Clip.load(Fixtures.path("vit/weights.safetensors"), Precision.FP32);
        float[][] fromPath = clip.encodeImages(List.of(png), true);
        float[][] fromBytes = clip.encode(List.of(ImageInput.of(Files.readAllBytes(png), "upload.png")), true);
        float[][] fromMemory = clip.encode(List.of(ImageInput.of(ImageIO.read(png.toFile()), "in memory")), true);
        assertThat(fromBytes[0]).containsExactly(fromPath[0]);
        assertThat(fromMemory[0]).containsExactly(fromPath[0]);
    }

    @Test
    void manyImagesAreBatchedInInputOrder() {
        Path a = Fixtures.path("preprocess/chelsea.png"), b = Fixtures.path("preprocess/coffee.png");
        Clip clip = Clip.load(Fixtures.path("vit/weights.safetensors"), Precision.FP32);
        List<Path> many = new java.util.ArrayList<>();
        for (int i = 0; i < 70; i++) many.add(i % 2 == 0 ? a : b);
        float[][] all = clip.encodeImages(many, true), one = clip.encodeImages(List.of(a, b), true);
        assertThat(all.length).isEqualTo(70);
        for (int i = 0; i < 70; i++) {
            float[] want = one[i % 2];
            for (int j = 0; j < want.length; j++) {
                assertThat(all[i][j]).isCloseTo(want[j], org.assertj.core.api.Assertions.within(1e-6f));
            }
        }
    }

    @Test
    void theGivenModelIsNeverChanged() {
        ClipModel model = ClipCheckpoint.loadModel(Fixtures.path("vit/weights.safetensors")).train(true);
        Clip bf16 = new Clip(model, Precision.BF16);
        assertThat(model.isTraining()).isTrue();
        assertThat(model.stateDict().values()).allMatch(t -> Tensors.dtype(t) == DType.F32 || Tensors.dtype(t) == DType.I64);
        assertThat(bf16.model().computeType()).isEqualTo(DType.BF16);
        assertThat(bf16.model().isTraining()).isFalse();
    }

    /**
     * The backend is part of the API: ONNX gives libtorch's features to 1e-5; AUTO keeps bf16 on libtorch and takes int8
     * to ONNX Runtime; ONNX refuses bf16.
     */
    @Test
    void eitherBackendFromTheApi() {
        Path png = Fixtures.path("preprocess/chelsea.png");
        try (Clip torch = Clip.load(Fixtures.path("vit/weights.safetensors"), Precision.FP32, Backend.TORCH);
             Clip onnx = Clip.load(Fixtures.path("vit/weights.safetensors"), Precision.FP32, Backend.ONNX);
             Clip bf16 = Clip.load(Fixtures.path("vit/weights.safetensors"), Precision.BF16, Backend.AUTO)) {
            assertThat(torch.backend()).isEqualTo(Backend.TORCH);
            assertThat(onnx.backend()).isEqualTo(Backend.ONNX);
            assertThat(bf16.backend()).isEqualTo(Backend.TORCH);
            float[] want = torch.encodeImages(List.of(png), false)[0], got = onnx.encodeImages(List.of(png), false)[0];
            double err = 0, scale = 0;
            for (int j = 0; j < want.length; j++) {
                err = Math.max(err, Math.abs(got[j] - want[j]));
                scale = Math.max(scale, Math.abs(want[j]));
            }
            assertThat(err / scale).isLessThan(1e-5);
        }
        try (Clip int8 = Clip.load(Fixtures.path("vit/weights.safetensors"), Precision.INT8, Backend.AUTO)) {
            assertThat(int8.backend()).isEqualTo(Backend.ONNX);
            assertThat(int8.encodeImages(List.of(png), true)[0]).hasSize(int8.model().config().embedDim());
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Clip.load(Fixtures.path("vit/weights.safetensors"), Precision.BF16, Backend.ONNX))
                .isInstanceOf(InputException.class).hasMessageContaining("--backend onnx cannot run this model: it runs float32 and int8, not bf16");
    }
}
