package dev.clip4j.pretrain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.clip4j.InputException;
import dev.clip4j.Parity;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.checkpoint.Safetensors;
import dev.clip4j.data.FrameFeatureDataset;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Tensors;
import dev.clip4j.train.TinyData;
import dev.clip4j.train.TrainOptions;
import dev.clip4j.train.Trainer;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The seed's single-stream model on frame features (and on images): losses fall, resume is exact, bad files are refused. */
class SingleStreamTest {
    @TempDir
    Path tmp;
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    private static Path tinyArch(Path dir) throws java.io.IOException {
        Path f = dir.resolve("ss.json");
        Files.writeString(f, "{\"name\": \"ss-test\", \"embed_dim\": 16, \"image_resolution\": 16, \"vision_layers\": [0],"
                + " \"vision_width\": 32, \"vision_patch_size\": 8, \"vision_heads\": 1, \"context_length\": 77,"
                + " \"vocab_size\": 49409, \"transformer_width\": 32, \"transformer_heads\": 1, \"transformer_layers\": 2,"
                + " \"text_attention\": \"bidirectional\"}");
        return f;
    }

    private static TrainOptions options(Path data, Path arch, int epochs, List<String> tasks) {
        return options(data, arch, epochs, tasks, 6);
    }

    private static TrainOptions options(Path data, Path arch, int epochs, List<String> tasks, int batch) {
        PretrainOptions p = new PretrainOptions(PretrainOptions.SINGLE_STREAM, tasks, Map.of(), PretrainOptions.SHUFFLE, 0, 0.995,
                0.4, 0.3, 0.3, 0);
        return TrainOptions.builder().data(data.toString()).arch(arch.toString()).epochs(epochs).batchSize(batch).lr(3e-3)
                .warmupSteps(2).weightDecay(0.02).seed(5).checkpointEvery(5).augment(false).pretrain(p).build();
    }

    @Test
    void everyTaskLossFallsOnFrameFeatures() throws Exception {
        // batch 12: the seed's shuffle makes negatives only in the reversed second half, a few per batch
        Path data = FrameData.write(tmp.resolve("clips.safetensors"), 48, 6, 8, 3), run = tmp.resolve("run");
        new Trainer(options(data, tinyArch(tmp), 30, List.of("itm", "mlm", "mfm"), 12), run, false, QUIET).run();
        List<JsonNode> steps = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) steps.add(new ObjectMapper().readTree(line));
        assertThat(steps).hasSize(120);
        for (String task : List.of("itm", "mlm", "mfm")) {
            double first = mean(steps.subList(0, 12), task), last = mean(steps.subList(108, 120), task);
            assertThat(last).as("%s: first 12 steps %.4f, last 12 %.4f", task, first, last).isLessThan(first * 0.8);
        }
        // the saved model is no unimodal encoder: embedding with it is a clear refusal
        var model = ClipCheckpoint.loadModel(run);
        assertThat(model.isSingleStream()).isTrue();
        assertThatThrownBy(() -> model.encodeText(Tensors.fromLongs(new long[] {49406, 320, 49407}, 1, 3)))
                .isInstanceOf(InputException.class).hasMessageContaining("single-stream");
    }

    private static double mean(List<JsonNode> steps, String key) {
        return steps.stream().filter(n -> n.has(key)).mapToDouble(n -> n.get(key).asDouble()).average().orElseThrow();
    }

    @Test
    void resumeIsBitForBit() throws Exception {
        Path data = FrameData.write(tmp.resolve("clips.safetensors"), 24, 6, 8, 3), arch = tinyArch(tmp);
        TrainOptions o = options(data, arch, 3, List.of("itm", "mlm", "mfm"));
        new Trainer(o, tmp.resolve("straight"), false, QUIET).run();
        Trainer.start(o, tmp.resolve("resumed"), QUIET, dev.clip4j.train.Objectives::create).runUntil(7);
        Trainer.resume(tmp.resolve("resumed"), null, QUIET).run();
        for (String f : List.of("model.safetensors", "objective.safetensors", "optimizer.safetensors")) {
            Map<String, Tensor> a = Safetensors.read(tmp.resolve("straight/checkpoint/" + f)), b = Safetensors.read(tmp.resolve("resumed/checkpoint/" + f));
            assertThat(b.keySet()).isEqualTo(a.keySet());
            a.forEach((k, v) -> Parity.assertBitIdentical(f + ":" + k, Tensors.toFloats(Tensors.to(b.get(k), DType.F32)),
                    Tensors.toFloats(Tensors.to(v, DType.F32))));
        }
    }

    @Test
    void imagesGiveVisualTokensFromPatchEmbeddings() throws Exception {
        Path data = TinyData.colourFolders(tmp.resolve("data"), 8, 1);
        Trainer t = new Trainer(options(data, tinyArch(tmp), 2, List.of("itm", "mlm")), tmp.resolve("img"), false, QUIET);
        Trainer.Result r = t.run();
        assertThat(r.state().step()).isEqualTo(8);
        assertThat(r.lastLoss()).isFinite();
        assertThat(t.objective().trainableParameters()).containsKey("visual.conv1.weight").doesNotContainKey("text_projection");
        assertThatThrownBy(() -> new Trainer(options(data, tinyArch(tmp), 2, List.of("mfm")), tmp.resolve("mfm"), false, QUIET))
                .isInstanceOf(InputException.class).hasMessageContaining("frame-feature data");
    }

    @Test
    void badFrameFilesAreRefusedWithTheReason() throws Exception {
        Path ok = FrameData.write(tmp.resolve("ok.safetensors"), 4, 3, 2, 1);
        assertThat(FrameFeatureDataset.open(ok.toString()).size()).isEqualTo(4);
        Map<String, Tensor> good = Safetensors.read(ok);
        String captions = Safetensors.readHeader(ok).metadata().get("captions");
        assertRefused(Map.of("features", good.get("features")), Map.of("captions", captions), "needs tensors 'features'");
        assertRefused(tensors(good.get("features"), Tensors.zeros(DType.U8, 4, 2)), Map.of("captions", captions), "'mask' must be [4, 3]");
        assertRefused(tensors(good.get("features"), good.get("mask")), Map.of(), "no 'captions'");
        assertRefused(tensors(good.get("features"), good.get("mask")), Map.of("captions", "[\"a\"]"), "JSON array of 4 strings");
        Tensor twos = Tensors.to(Tensors.full(2, DType.U8, 4, 3), DType.U8);
        assertRefused(tensors(good.get("features"), twos), Map.of("captions", captions), "must be 0 or 1");
        assertRefused(tensors(good.get("features"), Tensors.zeros(DType.U8, 4, 3)), Map.of("captions", captions), "no valid frame");
        Tensor nan = good.get("features").clone();
        nan.fill_(new org.bytedeco.pytorch.Scalar(Double.NaN));
        Path bad = tmp.resolve("nan.safetensors");
        Safetensors.write(bad, tensors(nan, good.get("mask")), Map.of("captions", captions));
        assertThatThrownBy(() -> FrameFeatureDataset.open(bad.toString()).features(new int[] {1}))
                .isInstanceOf(InputException.class).hasMessageContaining("NaN");
    }

    private static Map<String, Tensor> tensors(Tensor features, Tensor mask) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("features", features);
        m.put("mask", mask);
        return m;
    }

    private void assertRefused(Map<String, Tensor> tensors, Map<String, String> metadata, String message) throws Exception {
        Path f = Files.createTempFile(tmp, "bad", ".safetensors");
        Safetensors.write(f, tensors, metadata);
        assertThatThrownBy(() -> FrameFeatureDataset.open(f.toString())).isInstanceOf(InputException.class).hasMessageContaining(message);
    }
}
