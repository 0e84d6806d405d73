package dev.clip4j.model;

import dev.clip4j.Clip;
import dev.clip4j.Fixtures;
import dev.clip4j.Precision;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.image.ClipPreprocessor;
import dev.clip4j.onnx.OnnxClip;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * int8 inference (dynamic quantization of the linear layers) stays within cosine 0.99 of float32 (issue 13's bound), on
 * libtorch (FBGEMM) and on ONNX Runtime (DynamicQuantizeMatMul).
 */
class Int8Test {
    private static final List<String> PHOTOS = List.of("astronaut", "coffee", "chelsea", "rocket", "camera_gray", "chelsea_rgba");

    private static ClipModel load(String tower) {
        return ClipCheckpoint.loadModel(Fixtures.path(tower + "/weights.safetensors"));
    }

    @ParameterizedTest
    @CsvSource({"vit, torch", "resnet, torch", "vit, onnx", "resnet, onnx"})
    void int8FeaturesTrackFloat32(String tower, String backend) {
        ClipModel fp32 = load(tower);
        ClipModel int8 = load(tower).toInt8();
        var in = Fixtures.tensors(tower + "/inputs.safetensors");
        Tensor photos = new ClipPreprocessor(fp32.imageResolution())
                .batch(PHOTOS.stream().map(n -> Fixtures.path("preprocess/" + n + ".png")).toList());
        try (OnnxClip onnx = backend.equals("onnx") ? OnnxClip.of(int8) : null) {
            java.util.function.UnaryOperator<Tensor> image = onnx != null ? onnx::encodeImage : int8::encodeImage;
            java.util.function.UnaryOperator<Tensor> text = onnx != null ? onnx::encodeText : int8::encodeText;
            Grad.noGrad(() -> {
                for (var c : Map.of("random images", in.get("images"), "real photos", photos).entrySet()) {
                    Tensor a = image.apply(c.getValue()), e = fp32.encodeImage(c.getValue());
                    assertThat(Bf16Test.minCosine(a, e)).as("%s %s", tower, c.getKey()).isGreaterThanOrEqualTo(0.99);
                    assertThat(Tensors.toFloats(a)).as("int8 really ran").isNotEqualTo(Tensors.toFloats(e));
                }
                Tensor a = text.apply(in.get("text")), e = fp32.encodeText(in.get("text"));
                assertThat(Bf16Test.minCosine(a, e)).as("%s text", tower).isGreaterThanOrEqualTo(0.99);
                assertThat(Tensors.toFloats(a)).as("int8 really ran").isNotEqualTo(Tensors.toFloats(e));
            });
        }
    }

    /** Images of another size than the ViT's are refused by name, float or int8 (its patches cut from whole sides). */
    @Test
    void aViTRefusesImagesOfAnotherSize() {
        ClipModel fp32 = load("vit"), int8 = load("vit").toInt8();
        int r = fp32.imageResolution();
        Tensor odd = dev.clip4j.torch.Tensors.zeros(dev.clip4j.torch.DType.F32, 1, 3, r - 3, r - 3);
        for (ClipModel m : List.of(fp32, int8)) {
            Grad.noGrad(() -> assertThatThrownBy(() -> m.encodeImage(odd)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("images must be [B, 3, " + r + ", " + r + "]"));
        }
    }

    /** The float copies of quantized weights are freed: every transformer linear weight is left empty. */
    @Test
    void quantizedWeightsLeaveNoFloatCopy() {
        ClipModel m = load("vit").toInt8();
        Map<String, Tensor> sd = m.stateDict();
        List<String> linear = sd.keySet().stream().filter(k -> k.endsWith("in_proj_weight") || k.endsWith("out_proj.weight")
                || k.endsWith("c_fc.weight") || k.endsWith("c_proj.weight")).toList();
        assertThat(linear).hasSizeGreaterThan(4);
        linear.forEach(k -> assertThat(sd.get(k).numel()).as(k).isZero());
        assertThat(sd.get("visual.conv1.weight").numel()).as("the patch embedding, a linear map of each patch, too").isZero();
        assertThat(load("resnet").toInt8().stateDict().get("visual.conv1.weight").numel()).as("a ResNet's convolutions stay")
                .isPositive();
        assertThat(sd.get("text_projection").numel()).as("projections stay").isPositive();
    }

    @Test
    void anInt8ModelIsForInferenceOnly() {
        ClipModel m = load("vit").toInt8();
        assertThat(m.isInt8()).isTrue();
        assertThatThrownBy(m::copy).hasMessageContaining("int8 model cannot be copied");
        assertThatThrownBy(() -> m.train(true)).hasMessageContaining("inference only");
        assertThatThrownBy(() -> m.load(load("vit").stateDict(), "x")).hasMessageContaining("cannot be loaded into");
        assertThatThrownBy(() -> load("vit").toBf16().toInt8()).hasMessageContaining("float32 model");
        assertThatThrownBy(() -> new Clip(m, Precision.FP32)).hasMessageContaining("the model is int8");
    }

    /** {@code new Clip(model, INT8)} quantizes a copy; {@code Clip.handOver} converts the given model itself. */
    @Test
    void clipQuantizesACopyUnlessHandedOver() {
        ClipModel given = load("vit");
        Clip clip = new Clip(given, Precision.INT8);
        assertThat(given.isInt8()).isFalse();
        assertThat(clip.model().isInt8()).isTrue();
        List<java.nio.file.Path> photo = List.of(Fixtures.path("preprocess/chelsea.png"));
        float[][] a = clip.encodeImages(photo, true);
        float[][] e = new Clip(given, Precision.FP32).encodeImages(photo, true);
        double dot = 0;
        for (int i = 0; i < a[0].length; i++) dot += a[0][i] * e[0][i];
        assertThat(dot).isGreaterThanOrEqualTo(0.99);
        Clip owned = Clip.handOver(given, Precision.INT8);
        assertThat(owned.model()).isSameAs(given);
        assertThat(given.isInt8()).isTrue();
    }
}
