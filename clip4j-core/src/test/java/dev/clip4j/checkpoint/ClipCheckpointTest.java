package dev.clip4j.checkpoint;

import dev.clip4j.Fixtures;
import dev.clip4j.Parity;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClipCheckpointTest {
    @TempDir
    Path tmp;

    static void assertReproducesOutputs(ClipModel model, String tower) {
        Map<String, Tensor> in = Fixtures.tensors(tower + "/inputs.safetensors");
        Map<String, Tensor> out = Fixtures.tensors(tower + "/outputs.safetensors");
        Grad.noGrad(() -> {
            Parity.assertClose(tower + " encode_image", model.encodeImage(in.get("images")), out.get("encode_image"), 1e-5);
            Parity.assertClose(tower + " encode_text", model.encodeText(in.get("text")), out.get("encode_text"), 1e-5);
            ClipModel.Logits l = model.forward(in.get("images"), in.get("text")).logits();
            Parity.assertClose(tower + " logits_per_image", l.perImage(), out.get("logits_per_image"), 1e-5);
            Parity.assertClose(tower + " logits_per_text", l.perText(), out.get("logits_per_text"), 1e-5);
        });
    }

    @ParameterizedTest
    @CsvSource({"vit,weights.safetensors,SAFETENSORS", "vit,state_dict.pt,TORCH_SAVE", "vit,model_jit.pt,TORCHSCRIPT",
            "resnet,weights.safetensors,SAFETENSORS", "resnet,state_dict.pt,TORCH_SAVE", "resnet,model_jit.pt,TORCHSCRIPT"})
    void everyFormatReproducesReferenceOutputs(String tower, String file, CheckpointFormat format) {
        Path path = Fixtures.path(tower + "/" + file);
        assertThat(ClipCheckpoint.detect(path)).isEqualTo(format);
        assertReproducesOutputs(ClipCheckpoint.loadModel(path), tower);
    }

    @Test
    void torchScriptArchiveInfersArchitecture() {
        ClipCheckpoint.Loaded l = ClipCheckpoint.read(Fixtures.path("vit/model_jit.pt"));
        assertThat(l.config().isVit()).isTrue();
        assertThat(l.config().visionPatchSize()).isEqualTo(8);
        assertThat(l.config().imageResolution()).isEqualTo(32);
        assertThat(l.config().contextLength()).isEqualTo(16);
        assertThat(l.config().visionHeads()).isEqualTo(2);
        assertThat(l.weights()).containsKey("input_resolution");
    }

    @Test
    void clip4jDirectoryRoundTrips() throws IOException {
        ClipModel model = ClipCheckpoint.loadModel(Fixtures.path("resnet/weights.safetensors"));
        Path dir = tmp.resolve("saved");
        ClipCheckpoint.save(model, dir);
        assertThat(ClipCheckpoint.detect(dir)).isEqualTo(CheckpointFormat.CLIP4J_DIR);
        ClipModel again = ClipCheckpoint.loadModel(dir);
        assertThat(again.config()).isEqualTo(model.config());
        assertReproducesOutputs(again, "resnet");
        assertThat(Tensors.toLongs(again.stateDict().get("visual.bn1.num_batches_tracked"))).containsExactly(12345L);
    }

    @Test
    void huggingFaceDirectoryLoads() throws IOException {
        Map<String, Tensor> openai = Safetensors.read(Fixtures.path("vit/weights.safetensors"));
        Path dir = tmp.resolve("hf");
        Files.createDirectories(dir);
        Safetensors.write(dir.resolve("model.safetensors"), toHuggingFace(openai), Map.of());
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"clip\", \"text_config\": {\"num_attention_heads\": 1,"
                + " \"hidden_act\": \"quick_gelu\"}, \"vision_config\": {\"num_attention_heads\": 2, \"hidden_act\": \"quick_gelu\"}}");
        assertThat(ClipCheckpoint.detect(dir)).isEqualTo(CheckpointFormat.HUGGING_FACE_DIR);
        assertReproducesOutputs(ClipCheckpoint.loadModel(dir), "vit");
    }

    /** The inverse of the converter, written independently from Hugging Face's naming. */
    static Map<String, Tensor> toHuggingFace(Map<String, Tensor> sd) {
        Map<String, Tensor> hf = new LinkedHashMap<>();
        sd.forEach((k, v) -> {
            if (k.contains("in_proj_")) {
                String kind = k.endsWith("weight") ? "weight" : "bias";
                String layer = k.replaceAll(".*resblocks\\.(\\d+)\\..*", "$1");
                String tower = k.startsWith("visual.") ? "vision_model" : "text_model";
                long w = v.size(0) / 3;
                String[] names = {"q_proj", "k_proj", "v_proj"};
                for (int i = 0; i < 3; i++) {
                    hf.put(tower + ".encoder.layers." + layer + ".self_attn." + names[i] + "." + kind, v.narrow(0, i * w, w).contiguous());
                }
                return;
            }
            String name = k.replaceAll("^visual\\.transformer\\.resblocks\\.", "vision_model.encoder.layers.")
                    .replaceAll("^transformer\\.resblocks\\.", "text_model.encoder.layers.")
                    .replace(".attn.out_proj.", ".self_attn.out_proj.").replace(".ln_1.", ".layer_norm1.")
                    .replace(".ln_2.", ".layer_norm2.").replace(".mlp.c_fc.", ".mlp.fc1.").replace(".mlp.c_proj.", ".mlp.fc2.");
            switch (k) {
                case "text_projection" -> hf.put("text_projection.weight", v.t().contiguous());
                case "visual.proj" -> hf.put("visual_projection.weight", v.t().contiguous());
                case "token_embedding.weight" -> hf.put("text_model.embeddings.token_embedding.weight", v);
                case "positional_embedding" -> hf.put("text_model.embeddings.position_embedding.weight", v);
                case "ln_final.weight" -> hf.put("text_model.final_layer_norm.weight", v);
                case "ln_final.bias" -> hf.put("text_model.final_layer_norm.bias", v);
                case "visual.class_embedding" -> hf.put("vision_model.embeddings.class_embedding", v);
                case "visual.conv1.weight" -> hf.put("vision_model.embeddings.patch_embedding.weight", v);
                case "visual.positional_embedding" -> hf.put("vision_model.embeddings.position_embedding.weight", v);
                case "visual.ln_pre.weight" -> hf.put("vision_model.pre_layrnorm.weight", v);
                case "visual.ln_pre.bias" -> hf.put("vision_model.pre_layrnorm.bias", v);
                case "visual.ln_post.weight" -> hf.put("vision_model.post_layernorm.weight", v);
                case "visual.ln_post.bias" -> hf.put("vision_model.post_layernorm.bias", v);
                default -> hf.put(name, v);
            }
        });
        hf.put("text_model.embeddings.position_ids", Tensors.arange(16).reshape(1, 16));
        return hf;
    }

    @Test
    void halfPrecisionSafetensorsLoadAsFloat32() throws IOException {
        Map<String, Tensor> sd = Safetensors.read(Fixtures.path("vit/weights.safetensors"));
        Map<String, Tensor> half = new LinkedHashMap<>();
        sd.forEach((k, v) -> half.put(k, Tensors.to(v, k.equals("logit_scale") ? dev.clip4j.torch.DType.F32 : dev.clip4j.torch.DType.F16)));
        Path f = tmp.resolve("half.safetensors");
        Safetensors.write(f, half, Map.of());
        ClipModel m = ClipCheckpoint.loadModel(f);
        assertThat(Tensors.dtype(m.stateDict().get("visual.conv1.weight"))).isEqualTo(dev.clip4j.torch.DType.F32);
        float[] expected = Tensors.toFloats(Tensors.to(Tensors.to(sd.get("visual.proj"), dev.clip4j.torch.DType.F16), dev.clip4j.torch.DType.F32));
        assertThat(Tensors.toFloats(m.stateDict().get("visual.proj"))).containsExactly(expected);
    }

    @Test
    void truncatedSafetensorsNamesFileAndTensor() throws IOException {
        byte[] all = Files.readAllBytes(Fixtures.path("vit/weights.safetensors"));
        Safetensors.Header header = Safetensors.readHeader(Fixtures.path("vit/weights.safetensors"));
        long dataLeft = all.length - 1000 - header.dataStart();
        String lastTensor = header.entries().stream().filter(e -> e.end() > dataLeft).findFirst().orElseThrow().name();
        Path f = tmp.resolve("cut.safetensors");
        Files.write(f, Arrays.copyOf(all, all.length - 1000));
        assertThatThrownBy(() -> ClipCheckpoint.loadModel(f))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("cut.safetensors").hasMessageContaining("'" + lastTensor + "'").hasMessageContaining("truncated");
    }

    @Test
    void headerThatLiesAboutOffsetsIsRejected() throws IOException {
        byte[] all = Files.readAllBytes(Fixtures.path("vit/weights.safetensors"));
        String s = new String(all, java.nio.charset.StandardCharsets.ISO_8859_1);
        // logit_scale is 4 bytes; claim it is 8.
        int at = s.indexOf("\"logit_scale\"");
        int offs = s.indexOf("data_offsets", at);
        int open = s.indexOf('[', offs), comma = s.indexOf(',', open), close = s.indexOf(']', comma);
        long begin = Long.parseLong(s.substring(open + 1, comma).trim());
        String lie = "[" + begin + "," + (begin + 8) + "]";
        String forged = s.substring(0, open) + lie + " ".repeat(Math.max(0, close + 1 - open - lie.length())) + s.substring(close + 1);
        assertThat(forged.length()).isEqualTo(s.length());
        Path f = tmp.resolve("lies.safetensors");
        Files.write(f, forged.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> Safetensors.read(f))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("lies.safetensors").hasMessageContaining("logit_scale").hasMessageContaining("offsets");
    }

    @Test
    void pickleNamingForbiddenGlobalIsRefused() throws IOException {
        // torch.save layout whose data.pkl is: os.system("echo pwned")
        byte[] pkl = {(byte) 0x80, 2, 'c', 'o', 's', '\n', 's', 'y', 's', 't', 'e', 'm', '\n', 'X', 10, 0, 0, 0,
                'e', 'c', 'h', 'o', ' ', 'p', 'w', 'n', 'e', 'd', (byte) 0x85, 'R', '.'};
        Path f = tmp.resolve("evil.pt");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(f))) {
            zip.putNextEntry(new ZipEntry("evil/data.pkl"));
            zip.write(pkl);
            zip.putNextEntry(new ZipEntry("evil/version"));
            zip.write("3\n".getBytes());
        }
        assertThat(ClipCheckpoint.detect(f)).isEqualTo(CheckpointFormat.TORCH_SAVE);
        assertThatThrownBy(() -> ClipCheckpoint.loadModel(f))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("evil.pt").hasMessageContaining("'os.system'").hasMessageContaining("not allow");
    }

    @Test
    void mismatchedCheckpointNamesTensor() throws IOException {
        Map<String, Tensor> sd = new LinkedHashMap<>(Safetensors.read(Fixtures.path("vit/weights.safetensors")));
        sd.put("visual.ln_pre.bias", Tensors.zeros(dev.clip4j.torch.DType.F32, 7));
        Path f = tmp.resolve("bad.safetensors");
        Safetensors.write(f, sd, Map.of());
        assertThatThrownBy(() -> ClipCheckpoint.loadModel(f))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("bad.safetensors").hasMessageContaining("visual.ln_pre.bias").hasMessageContaining("[7]");
    }

    @Test
    void notACheckpoint() throws IOException {
        Path f = tmp.resolve("notes.txt");
        try (OutputStream o = Files.newOutputStream(f)) {
            o.write("hello world, not a model".getBytes());
        }
        assertThatThrownBy(() -> ClipCheckpoint.loadModel(f)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("notes.txt").hasMessageContaining("not a recognised checkpoint");
    }
}
