package dev.clip4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.clip4j.Fixtures;
import dev.clip4j.Parity;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.data.Datasets;
import dev.clip4j.data.Prompts;
import dev.clip4j.eval.ZeroShot;
import dev.clip4j.eval.ZeroShotResult;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class TrainingTest {
    @TempDir
    Path tmp;

    /** Gradient caching: micro-batches of 2 give the gradients of the whole batch of 4. */
    @Test
    void microBatchesGiveFullBatchGradients() {
        Map<String, Tensor> in = Fixtures.tensors("vit/inputs.safetensors");
        Tensor images = in.get("images").narrow(0, 0, 4), text = in.get("text").narrow(0, 0, 4);
        ClipModel full = ClipCheckpoint.loadModel(Fixtures.path("vit/weights.safetensors")).train(true);
        ClipModel micro = ClipCheckpoint.loadModel(Fixtures.path("vit/weights.safetensors")).train(true);
        double lossFull = ContrastiveStep.run(full, images, text, 0, false);
        double lossMicro = ContrastiveStep.run(micro, images, text, 2, false);
        // 1e-6 relative (a few float32 ulps): the micro-batch path sums the same terms in another order.
        assertThat(lossMicro).isCloseTo(lossFull, org.assertj.core.api.Assertions.within(1e-6 * Math.abs(lossFull)));
        full.parameters().forEach((name, p) ->
                Parity.assertClose("micro-batch grad " + name, micro.parameters().get(name).grad(), p.grad(), 1e-5));
    }

    @Test
    void logitScaleIsClampedToLn100AndZero() {
        ClipModel m = ClipCheckpoint.loadModel(Fixtures.path("vit/weights.safetensors"));
        Tensor s = m.parameters().get("logit_scale");
        dev.clip4j.torch.Grad.noGrad(() -> s.fill_(new org.bytedeco.pytorch.Scalar(7.0)));
        Trainer.clampLogitScale(m);
        assertThat((double) Tensors.item(s)).isCloseTo(Math.log(100), org.assertj.core.api.Assertions.within(1e-6));
        dev.clip4j.torch.Grad.noGrad(() -> s.fill_(new org.bytedeco.pytorch.Scalar(-3.0)));
        Trainer.clampLogitScale(m);
        assertThat((double) Tensors.item(s)).isZero();
    }

    @Test
    void weightDecayOnlyOnMatrices() {
        ClipModel m = ClipCheckpoint.loadModel(Fixtures.path("resnet/weights.safetensors"));
        Map<String, Tensor> p = m.parameters();
        assertThat(m.decays("visual.layer1.0.conv1.weight")).isTrue();
        assertThat(m.decays("transformer.resblocks.0.attn.in_proj_weight")).isTrue();
        assertThat(m.decays("text_projection")).isTrue();
        for (String name : List.of("logit_scale", "token_embedding.weight", "positional_embedding",
                "visual.attnpool.positional_embedding", "ln_final.weight", "ln_final.bias", "visual.bn1.weight",
                "transformer.resblocks.0.attn.in_proj_bias", "visual.attnpool.q_proj.bias")) {
            assertThat(m.decays(name)).as(name).isFalse();
        }
    }

    /** Train 2N steps straight, or N steps, stop, resume, N more: the parameters are identical. */
    @Test
    void resumeContinuesBitForBit() throws Exception {
        Path data = TinyData.colourFolders(tmp.resolve("data"), 8, 1);
        Path config = TinyData.tinyConfig(tmp);
        TrainOptions o = TinyData.options(data, config, 4, 6, 0, 3); // 4 steps per epoch, 16 steps
        new Trainer(o, tmp.resolve("straight"), false, new java.io.PrintStream(java.io.OutputStream.nullOutputStream())).run();
        Trainer first = new Trainer(o, tmp.resolve("resumed"), false, new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
        first.runUntil(7);
        Trainer.Result r = new Trainer(null, tmp.resolve("resumed"), true, new java.io.PrintStream(java.io.OutputStream.nullOutputStream())).run();
        assertThat(r.state().step()).isEqualTo(16);
        Map<String, Tensor> a = ClipCheckpoint.read(tmp.resolve("straight/checkpoint")).weights();
        Map<String, Tensor> b = ClipCheckpoint.read(tmp.resolve("resumed/checkpoint")).weights();
        assertThat(b.keySet()).isEqualTo(a.keySet());
        a.forEach((k, v) -> Parity.assertBitIdentical(k, Tensors.toFloats(b.get(k)), Tensors.toFloats(v)));
        Map<String, Tensor> oa = dev.clip4j.checkpoint.Safetensors.read(tmp.resolve("straight/checkpoint/optimizer.safetensors"));
        Map<String, Tensor> ob = dev.clip4j.checkpoint.Safetensors.read(tmp.resolve("resumed/checkpoint/optimizer.safetensors"));
        oa.forEach((k, v) -> Parity.assertBitIdentical(k, Tensors.toFloats(ob.get(k)), Tensors.toFloats(v)));
    }

    /** A short run on a tiny dataset lowers the loss and classifies zero-shot better than chance. */
    @Test
    void shortRunLearns() throws Exception {
        Path data = TinyData.colourFolders(tmp.resolve("data"), 12, 2);
        Path config = TinyData.tinyConfig(tmp);
        Path run = tmp.resolve("run");
        TrainOptions o = TinyData.options(data, config, 40, 12, 0, 0); // 120 steps
        new Trainer(o, run, false, new java.io.PrintStream(java.io.OutputStream.nullOutputStream())).run();
        List<String> lines = Files.readAllLines(run.resolve("metrics.jsonl"));
        ObjectMapper json = new ObjectMapper();
        double first = 0, last = 0;
        int n = lines.size();
        for (int i = 0; i < 5; i++) first += json.readTree(lines.get(i)).get("loss").asDouble() / 5;
        for (int i = n - 5; i < n; i++) last += json.readTree(lines.get(i)).get("loss").asDouble() / 5;
        assertThat(last).as("mean loss of the last 5 steps vs the first 5").isLessThan(first * 0.8);
        ClipModel model = ClipCheckpoint.loadModel(run.resolve("checkpoint")).train(false);
        ZeroShotResult r = ZeroShot.evaluate(model, Datasets.open(data.toString()), Prompts.TEMPLATES, 16);
        assertThat(r.top1()).as("zero-shot top-1 (chance 1/3)").isGreaterThan(0.6);
        JsonNode last1 = json.readTree(lines.get(n - 1));
        assertThat(last1.get("logit_scale").asDouble()).isBetween(1.0, 100.0);
    }
}
