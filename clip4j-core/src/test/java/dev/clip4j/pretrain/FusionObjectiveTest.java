package dev.clip4j.pretrain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.clip4j.Parity;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.checkpoint.Safetensors;
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
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** ALBEF-style pretraining through the training loop: losses fall, momentum copies get no gradient, resume is exact. */
class FusionObjectiveTest {
    @TempDir
    Path tmp;
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    private TrainOptions options(Path data, Path config, int epochs, List<String> tasks, String negatives) {
        PretrainOptions p = new PretrainOptions(PretrainOptions.FUSION, tasks, Map.of(), negatives, 10, 0.9, 0.4, 0.3, 0.15, 1);
        return TinyData.options(data, config, epochs, 6, 0, 5).toBuilder().lr(3e-3).warmupSteps(2).augment(false)
                .pretrain(p).build();
    }

    @Test
    void everyTaskLossFallsAndMomentumCopiesGetNoGradient() throws Exception {
        Path data = TinyData.colourFolders(tmp.resolve("data"), 8, 1), config = TinyData.tinyConfig(tmp);
        Path run = tmp.resolve("run");
        Trainer t = new Trainer(options(data, config, 25, List.of("ita", "itm", "mlm"), "hard"), run, false, QUIET);
        t.run();
        List<JsonNode> steps = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) steps.add(json.readTree(line));
        assertThat(steps).hasSize(100);
        for (String task : List.of("ita", "itm", "mlm")) {
            double first = mean(steps.subList(0, 10), task), last = mean(steps.subList(90, 100), task);
            assertThat(last).as("%s: first 10 steps %.4f, last 10 %.4f", task, first, last).isLessThan(first * 0.8);
        }
        FusionObjective o = (FusionObjective) t.objective();
        assertThat(o.momentum()).isNotNull();
        o.momentum().namedParameters().forEach((k, v) -> {
            assertThat(v.requires_grad()).as(k).isFalse();
            assertThat(v.grad().defined()).as("gradient of momentum %s", k).isFalse();
        });
        assertThat(o.fusion().namedParameters().values()).anyMatch(v -> v.grad().defined());
        // the momentum copy moved with the model but is not equal to it
        Tensor online = o.model().stateDict().get("visual.proj"), twin = o.momentum().clip().stateDict().get("visual.proj");
        assertThat(Tensors.toFloats(twin)).isNotEqualTo(Tensors.toFloats(online));
        // the queue was filled and the model's logit_scale follows ITA's temperature
        assertThat(o.ita().queue().pointer()).isEqualTo((100L * 6) % 10);
        double temp = Tensors.item(o.ita().temperature());
        assertThat(Math.exp(Tensors.item(o.model().logitScaleParameter()))).isCloseTo(Math.min(100, 1 / temp),
                org.assertj.core.api.Assertions.within(1e-3 / temp));
        // the saved run reloads as a CLIP model with a bidirectional text tower
        assertThat(ClipCheckpoint.loadModel(run).text().bidirectional()).isTrue();
    }

    private static double mean(List<JsonNode> steps, String key) {
        return steps.stream().mapToDouble(n -> n.path("losses").path(key).asDouble(n.path(key).asDouble(Double.NaN))).average().orElseThrow();
    }

    @Test
    void resumeIsBitForBitWithMomentumQueuesAndMasks() throws Exception {
        Path data = TinyData.colourFolders(tmp.resolve("data"), 8, 1), config = TinyData.tinyConfig(tmp);
        for (String negatives : List.of("hard", "shuffle")) {
            TrainOptions o = options(data, config, 3, List.of("ita", "itm", "mlm"), negatives);
            Path straight = tmp.resolve("straight-" + negatives), resumed = tmp.resolve("resumed-" + negatives);
            new Trainer(o, straight, false, QUIET).run();
            Trainer.start(o, resumed, QUIET, dev.clip4j.train.Objectives::create).runUntil(7);
            Trainer.resume(resumed, null, QUIET).run();
            sameTensors(ClipCheckpoint.read(straight).weights(), ClipCheckpoint.read(resumed).weights());
            sameTensors(Safetensors.read(straight.resolve("checkpoint/objective.safetensors")),
                    Safetensors.read(resumed.resolve("checkpoint/objective.safetensors")));
            sameTensors(Safetensors.read(straight.resolve("checkpoint/optimizer.safetensors")),
                    Safetensors.read(resumed.resolve("checkpoint/optimizer.safetensors")));
        }
    }

    private static void sameTensors(Map<String, Tensor> a, Map<String, Tensor> b) {
        assertThat(b.keySet()).isEqualTo(a.keySet());
        a.forEach((k, v) -> {
            if (dev.clip4j.torch.Tensors.dtype(v).isFloatingPoint()) Parity.assertBitIdentical(k, Tensors.toFloats(b.get(k)), Tensors.toFloats(v));
            else assertThat(Tensors.toLongs(b.get(k))).as(k).containsExactly(Tensors.toLongs(v));
        });
    }

    @Test
    void pairsCarryTheirMaskAndPaddingWithThem() {
        dev.clip4j.torch.Torch.init();
        boolean[][] same = new boolean[4][4];
        for (int i = 0; i < 4; i++) same[i][i] = true;
        ItmNegatives.Pairs pairs = ItmNegatives.shufflePairs(4, same);
        // features of example i are all i; its mask row holds i + 10: after selection they must still agree
        Tensor features = Tensors.fromFloats(new float[] {0, 0, 1, 1, 2, 2, 3, 3}, 4, 2);
        Tensor mask = Tensors.fromFloats(new float[] {10, 11, 12, 13}, 4);
        float[] f = Tensors.toFloats(pairs.selectVisual(features)), m = Tensors.toFloats(pairs.selectVisual(mask));
        for (int k = 0; k < pairs.size(); k++) {
            assertThat(m[k]).isEqualTo(f[2 * k] + 10);
            assertThat(pairs.labels()[k]).isEqualTo(pairs.visual()[k] == pairs.text()[k] ? 1 : 0);
        }
        assertThat(pairs.labels()).containsExactly(1, 1, 0, 0);
    }

    @Test
    void optionsAreChecked() {
        PretrainOptions ok = PretrainOptions.defaults(PretrainOptions.FUSION);
        assertThat(ok.tasks()).containsExactly("ita", "itm", "mlm");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> PretrainOptions.parseTasks("ita,xyz"))
                .hasMessageContaining("unknown task 'xyz'");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> PretrainOptions.parseWeights("ita=-1"))
                .hasMessageContaining("≥ 0");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new PretrainOptions("fusion", List.of("mfm"), Map.of(), "hard",
                0, 0.995, 0.4, 0.15, 0.15, 2).validate(8, 0)).hasMessageContaining("single-stream");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> ok.validate(8, 4)).hasMessageContaining("micro-batches");
    }
}
