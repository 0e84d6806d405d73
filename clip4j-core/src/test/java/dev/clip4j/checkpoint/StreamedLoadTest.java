package dev.clip4j.checkpoint;

import dev.clip4j.Fixtures;
import dev.clip4j.Parity;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link ClipCheckpoint#loadForInference}: a model read one tensor at a time, int8 quantized layer by layer. */
class StreamedLoadTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @CsvSource({"vit,weights.safetensors", "vit,state_dict.pt", "vit,model_jit.pt",
            "resnet,weights.safetensors", "resnet,state_dict.pt", "resnet,model_jit.pt"})
    void everyFormatStreamsInTheReferenceModelAndItsFingerprint(String tower, String file) {
        Path path = Fixtures.path(tower + "/" + file);
        ClipCheckpoint.ForInference f = ClipCheckpoint.loadForInference(path, false, true);
        assertThat(f.model().isTraining()).isFalse();
        ClipCheckpointTest.assertReproducesOutputs(f.model(), tower);
        assertThat(f.fingerprint()).isEqualTo(ModelFingerprint.of(ClipCheckpoint.loadModel(path)));
        // a safetensors file of float32 weights is hashed from the file on a thread of its own, the others as loaded
        try (ClipCheckpoint.Opened o = ClipCheckpoint.open(path)) {
            assertThat(ModelFingerprint.FromFile.covers(o.weights())).isEqualTo(file.endsWith(".safetensors"));
        }
    }

    @Test
    void huggingFaceAndHalfPrecisionFilesStreamIn() throws IOException {
        Map<String, Tensor> openai = Safetensors.read(Fixtures.path("vit/weights.safetensors"));
        Path hf = tmp.resolve("hf");
        Files.createDirectories(hf);
        Safetensors.write(hf.resolve("model.safetensors"), ClipCheckpointTest.toHuggingFace(openai), Map.of());
        Files.writeString(hf.resolve("config.json"), "{\"text_config\": {\"num_attention_heads\": 1}, \"vision_config\": {\"num_attention_heads\": 2}}");
        ClipCheckpointTest.assertReproducesOutputs(ClipCheckpoint.loadForInference(hf, false, false).model(), "vit");

        Map<String, Tensor> half = new LinkedHashMap<>();
        openai.forEach((k, v) -> half.put(k, Tensors.to(v, DType.F16)));
        Path f = tmp.resolve("half.safetensors");
        Safetensors.write(f, half, Map.of());
        ClipModel streamed = ClipCheckpoint.loadForInference(f, false, false).model();
        ClipModel whole = ClipCheckpoint.loadModel(f);
        whole.stateDict().forEach((k, v) -> assertThat(Tensors.toFloats(streamed.stateDict().get(k))).as(k).containsExactly(Tensors.toFloats(v)));
    }

    /** Hugging Face tensors that cannot be renamed into OpenAI's are refused by name before any is read. */
    @Test
    void malformedHuggingFaceProjectionsAreNamed() throws IOException {
        Map<String, Tensor> hf = ClipCheckpointTest.toHuggingFace(Safetensors.read(Fixtures.path("vit/weights.safetensors")));
        String k = "vision_model.encoder.layers.0.self_attn.k_proj.weight";
        Map<String, Tensor> qkv = new LinkedHashMap<>(hf);
        qkv.put(k, Tensors.zeros(DType.F32, Tensors.shape(hf.get(k))[0], Tensors.shape(hf.get(k))[1] + 1));
        Path a = tmp.resolve("qkv.safetensors");
        Safetensors.write(a, qkv, Map.of());
        assertThatThrownBy(() -> ClipCheckpoint.loadForInference(a, false, false)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("q/k/v projections for visual.transformer.resblocks.0.attn.in_proj_weight differ in shape or dtype");

        Map<String, Tensor> proj = new LinkedHashMap<>(hf);
        proj.put("visual_projection.weight", Tensors.zeros(DType.F32, 4));
        Path b = tmp.resolve("proj.safetensors");
        Safetensors.write(b, proj, Map.of());
        assertThatThrownBy(() -> ClipCheckpoint.loadForInference(b, false, false)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'visual_projection.weight' has shape [4]; expected a matrix");
    }

    @ParameterizedTest
    @ValueSource(strings = {"vit", "resnet"})
    void int8StreamedIsTheWholeModelQuantized(String tower) {
        Path path = Fixtures.path(tower + "/weights.safetensors");
        ClipCheckpoint.ForInference f = ClipCheckpoint.loadForInference(path, true, true);
        ClipModel whole = ClipCheckpoint.loadModel(path);
        assertThat(f.fingerprint()).isEqualTo(ModelFingerprint.of(whole)); // of the float weights, read before quantizing
        whole.toInt8();
        assertThat(f.model().isInt8()).isTrue();
        Map<String, Tensor> in = Fixtures.tensors(tower + "/inputs.safetensors");
        Grad.noGrad(() -> {
            Parity.assertBitIdentical(tower + " int8 encode_image", Tensors.toFloats(f.model().encodeImage(in.get("images"))),
                    Tensors.toFloats(whole.encodeImage(in.get("images"))));
            Parity.assertBitIdentical(tower + " int8 encode_text", Tensors.toFloats(f.model().encodeText(in.get("text"))),
                    Tensors.toFloats(whole.encodeText(in.get("text"))));
        });
    }

    /** Image-only work (an image collection's embeddings) never reads the text tower, yet names the whole model. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void imagesOnlyLeavesTheTextTowerUnreadButInTheFingerprint(boolean int8) throws IOException {
        Path path = Fixtures.path("vit/weights.safetensors");
        ClipCheckpoint.ForInference f = ClipCheckpoint.loadForInference(path, int8, true, dev.clip4j.model.Towers.IMAGE);
        ClipModel whole = ClipCheckpoint.loadForInference(path, int8, false).model();
        assertThat(f.fingerprint()).isEqualTo(ModelFingerprint.of(ClipCheckpoint.loadModel(path)));
        assertThat(f.model().hasTextTower()).isFalse();
        assertThat(f.model().text().stateDict().values()).allSatisfy(t -> assertThat(t.numel()).isZero());
        Map<String, Tensor> in = Fixtures.tensors("vit/inputs.safetensors");
        Grad.noGrad(() -> Parity.assertBitIdentical("image-only encode_image", Tensors.toFloats(f.model().encodeImage(in.get("images"))),
                Tensors.toFloats(whole.encodeImage(in.get("images")))));
        assertThatThrownBy(() -> f.model().encodeText(in.get("text"))).hasMessageContaining("loaded for images only");
        assertThatThrownBy(() -> ModelFingerprint.of(f.model())).hasMessageContaining("loaded for images only");
        assertThatThrownBy(() -> ClipCheckpoint.save(f.model(), tmp.resolve("saved"))).hasMessageContaining("loaded for images only");
        try (dev.clip4j.onnx.OnnxClip onnx = dev.clip4j.onnx.OnnxClip.of(f.model())) {
            assertThatThrownBy(() -> onnx.encodeText(in.get("text"))).hasMessageContaining("loaded for images only");
        }
    }

    /** Text-only work (a search by sentence) never reads the image tower, yet names the whole model. */
    @ParameterizedTest
    @ValueSource(strings = {"vit", "resnet"})
    void textsOnlyLeavesTheImageTowerUnreadButInTheFingerprint(String tower) throws IOException {
        for (boolean int8 : new boolean[] {false, true}) {
            Path path = Fixtures.path(tower + "/weights.safetensors");
            ClipCheckpoint.ForInference f = ClipCheckpoint.loadForInference(path, int8, true, dev.clip4j.model.Towers.TEXT);
            ClipModel whole = ClipCheckpoint.loadForInference(path, int8, false).model();
            assertThat(f.fingerprint()).isEqualTo(ModelFingerprint.of(ClipCheckpoint.loadModel(path)));
            assertThat(f.model().hasTextTower()).isTrue();
            assertThat(f.model().visual().stateDict().values()).allSatisfy(t -> assertThat(t.numel()).isZero());
            Map<String, Tensor> in = Fixtures.tensors(tower + "/inputs.safetensors");
            Grad.noGrad(() -> Parity.assertBitIdentical(tower + " text-only encode_text", Tensors.toFloats(f.model().encodeText(in.get("text"))),
                    Tensors.toFloats(whole.encodeText(in.get("text")))));
            assertThatThrownBy(() -> f.model().encodeImage(in.get("images"))).hasMessageContaining("loaded for texts only");
            assertThatThrownBy(() -> ModelFingerprint.of(f.model())).hasMessageContaining("loaded for texts only");
            try (dev.clip4j.onnx.OnnxClip onnx = dev.clip4j.onnx.OnnxClip.of(f.model())) {
                assertThatThrownBy(() -> onnx.encodeImage(in.get("images"))).hasMessageContaining("loaded for texts only");
                // float32 on ONNX Runtime within its usual 1e-5 of libtorch; int8's kernels differ from FBGEMM's, so only run
                Tensor onnxText = onnx.encodeText(in.get("text"));
                if (!int8) Grad.noGrad(() -> Parity.assertClose(tower + " text-only on ONNX Runtime", onnxText, whole.encodeText(in.get("text")), 1e-5));
            }
        }
    }

    /** A tower left out is never read: its tensors go to {@code passedOver}, in name order, with their unread sources. */
    @Test
    void aTowerLeftOutIsHandedOverUnread() {
        try (ClipCheckpoint.Opened o = ClipCheckpoint.open(Fixtures.path("vit/weights.safetensors"))) {
            ClipModel model = ClipModel.blankFor(o.config()).dropTextTower();
            List<String> read = new ArrayList<>(), passed = new ArrayList<>(), order = new ArrayList<>();
            Map<String, Supplier<Tensor>> source = new LinkedHashMap<>();
            o.weights().forEach((k, v) -> source.put(k, () -> {
                read.add(k);
                return v.get();
            }));
            model.stream(source, "test", false, ClipModel::isImageSide, (k, t) -> order.add(k), (k, s) -> {
                passed.add(k);
                order.add(k);
            });
            assertThat(passed).isNotEmpty().noneMatch(ClipModel::isImageSide);
            assertThat(read).isNotEmpty().allMatch(ClipModel::isImageSide);
            assertThat(order).isSorted().hasSize(read.size() + passed.size());
        }
    }

    /** The point of streaming: a layer's float weights are gone before the next layer's are read. */
    @Test
    void eachLayerIsQuantizedAndFreedBeforeTheNextIsRead() {
        try (ClipCheckpoint.Opened o = ClipCheckpoint.open(Fixtures.path("vit/weights.safetensors"))) {
            ClipModel model = ClipModel.blankFor(o.config());
            String first = "visual.transformer.resblocks.0.", firstWeight = first + "attn.in_proj_weight";
            Tensor watched = model.stateDict().get(firstWeight);
            List<String> order = new ArrayList<>();
            List<Long> firstLayerSizeSeen = new ArrayList<>();
            Map<String, Supplier<Tensor>> source = new LinkedHashMap<>();
            o.weights().forEach((k, v) -> source.put(k, () -> {
                order.add(k);
                if (k.startsWith("visual.transformer.resblocks.1.")) firstLayerSizeSeen.add(watched.numel());
                return v.get();
            }));
            model.stream(source, "test", true, k -> true, (k, t) -> {}, (k, passed) -> {});
            assertThat(order).isSorted();
            assertThat(firstLayerSizeSeen).isNotEmpty().containsOnly(0L);
            assertThat(model.isInt8()).isTrue();
        }
    }

    @Test
    void aMissingOrMisshapenTensorIsNamed() throws IOException {
        Map<String, Tensor> sd = Safetensors.read(Fixtures.path("vit/weights.safetensors"));
        Map<String, Tensor> missing = new LinkedHashMap<>(sd);
        missing.remove("visual.transformer.resblocks.1.mlp.c_fc.weight");
        Path a = tmp.resolve("missing.safetensors");
        Safetensors.write(a, missing, Map.of());
        assertThatThrownBy(() -> ClipCheckpoint.loadForInference(a, true, false)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'visual.transformer.resblocks.1.mlp.c_fc.weight' is missing");

        Map<String, Tensor> extra = new LinkedHashMap<>(sd);
        extra.put("visual.extra_head.weight", sd.get("visual.transformer.resblocks.1.mlp.c_fc.weight"));
        Path c = tmp.resolve("extra.safetensors");
        Safetensors.write(c, extra, Map.of());
        assertThatThrownBy(() -> ClipCheckpoint.loadForInference(c, false, false, dev.clip4j.model.Towers.IMAGE)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("tensors the model does not have: visual.extra_head.weight");

        Map<String, Tensor> nan = new LinkedHashMap<>(sd);
        nan.put("visual.transformer.resblocks.1.mlp.c_fc.weight", Tensors.full(Double.NaN, DType.F32,
                Tensors.shape(sd.get("visual.transformer.resblocks.1.mlp.c_fc.weight"))));
        Path b = tmp.resolve("nan.safetensors");
        Safetensors.write(b, nan, Map.of());
        assertThatThrownBy(() -> ClipCheckpoint.loadForInference(b, true, false)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'visual.transformer.resblocks.1.mlp.c_fc.weight' holds NaN");
    }

    /** A checkpoint replaced while it streams in (a training run saving its next one) is still read from one version. */
    @Test
    void aFileReplacedMidLoadIsReadFromTheVersionOpened() throws IOException {
        Map<String, Tensor> sd = Safetensors.read(Fixtures.path("vit/weights.safetensors"));
        Path f = tmp.resolve("model.safetensors");
        Safetensors.write(f, sd, Map.of());
        Map<String, Tensor> other = new LinkedHashMap<>();
        sd.forEach((k, v) -> other.put(k, Tensors.zeros(Tensors.dtype(v), Tensors.shape(v))));
        Path next = tmp.resolve("next.safetensors");
        Safetensors.write(next, other, Map.of());
        try (Safetensors.Lazy lazy = Safetensors.open(f)) {
            Files.move(next, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            lazy.tensors().forEach((k, v) -> assertThat(Tensors.toFloats(v.get())).as(k).containsExactly(Tensors.toFloats(sd.get(k))));
        }
    }
}
