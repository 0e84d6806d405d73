package dev.clip4j.model;

import dev.clip4j.nn.AttentionKernel;

import dev.clip4j.Fixtures;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.image.ClipPreprocessor;
import dev.clip4j.torch.Autocast;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** bf16 inference stays within cosine 0.999 of float32, on the fixture inputs and on real photos. */
class Bf16Test {
    private static final List<String> PHOTOS = List.of("astronaut", "coffee", "chelsea", "rocket", "camera_gray", "chelsea_rgba");

    static double minCosine(Tensor a, Tensor b) {
        float[][] x = Tensors.toMatrix(Tensors.to(a, DType.F32)), y = Tensors.toMatrix(Tensors.to(b, DType.F32));
        double min = 1;
        for (int i = 0; i < x.length; i++) {
            double dot = 0, nx = 0, ny = 0;
            for (int k = 0; k < x[i].length; k++) {
                dot += x[i][k] * y[i][k];
                nx += x[i][k] * x[i][k];
                ny += y[i][k] * y[i][k];
            }
            min = Math.min(min, dot / Math.sqrt(nx * ny));
        }
        return min;
    }

    @ParameterizedTest
    @ValueSource(strings = {"vit", "resnet"})
    void bf16FeaturesTrackFloat32(String tower) {
        ClipModel fp32 = ClipCheckpoint.loadModel(Fixtures.path(tower + "/weights.safetensors"));
        ClipModel bf16 = ClipCheckpoint.loadModel(Fixtures.path(tower + "/weights.safetensors")).toBf16();
        assertThat(bf16.computeType()).isEqualTo(DType.BF16);
        var in = Fixtures.tensors(tower + "/inputs.safetensors");
        Tensor photos = new ClipPreprocessor(fp32.imageResolution())
                .batch(PHOTOS.stream().map(n -> Fixtures.path("preprocess/" + n + ".png")).toList());
        Grad.noGrad(() -> {
            assertThat(minCosine(bf16.encodeImage(in.get("images")), fp32.encodeImage(in.get("images"))))
                    .as("%s random images", tower).isGreaterThanOrEqualTo(0.999);
            assertThat(minCosine(bf16.encodeImage(photos), fp32.encodeImage(photos)))
                    .as("%s real photos", tower).isGreaterThanOrEqualTo(0.999);
            assertThat(minCosine(bf16.encodeText(in.get("text")), fp32.encodeText(in.get("text"))))
                    .as("%s text", tower).isGreaterThanOrEqualTo(0.999);
        });
    }

    /** Under bf16 autocast (the training mode), with either attention kernel, features stay within cosine 0.999. */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void autocastFeaturesTrackFloat32(boolean fusedAttention) {
        AttentionKernel.with(new AttentionKernel.Policy(true, fusedAttention, false), () -> {
            for (String tower : List.of("vit", "resnet")) {
                ClipModel model = ClipCheckpoint.loadModel(Fixtures.path(tower + "/weights.safetensors"));
                var in = Fixtures.tensors(tower + "/inputs.safetensors");
                Grad.noGrad(() -> {
                    Tensor image32 = model.encodeImage(in.get("images")), text32 = model.encodeText(in.get("text"));
                    try (Autocast ac = Autocast.bf16()) {
                        assertThat(minCosine(model.encodeImage(in.get("images")), image32)).as("%s image", tower)
                                .isGreaterThanOrEqualTo(0.999);
                        assertThat(minCosine(model.encodeText(in.get("text")), text32)).as("%s text", tower)
                                .isGreaterThanOrEqualTo(0.999);
                    }
                });
            }
            return null;
        });
    }
}
