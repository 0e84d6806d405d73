package dev.clip4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** `pretrain` from the command line: both model types, re-ranking, embedding, resume rules, one-line errors. */
class PretrainCliTest {
    @TempDir
    Path tmp;

    @Test
    void fusionPretrainThenRerankEmbedAndResumeRules() throws Exception {
        Path config = CliTest.redBlueDataAndConfig(tmp), data = tmp.resolve("data"), run = tmp.resolve("fusion");
        CliTest.Result t = CliTest.run("pretrain", "--data", data.toString(), "--arch", config.toString(), "--out", run.toString(),
                "--epochs", "6", "--batch-size", "8", "--lr", "2e-3", "--warmup", "2", "--threads", "1", "--queue-size", "16",
                "--fusion-layers", "1", "--task-weights", "mlm=0.5");
        assertThat(t.code()).as(t.err()).isZero();
        for (String f : List.of("report.md", "loss_ita.png", "loss_itm.png", "loss_mlm.png", "temperature.png", "checkpoint/objective.safetensors")) {
            assertThat(run.resolve(f)).as(f).exists();
        }
        Path rr = tmp.resolve("rr.json");
        CliTest.Result r = CliTest.run("eval", "retrieval", "--model", run.toString(), "--data", data.toString(), "--rerank-itm", "4",
                "--output", rr.toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode json = Json.MAPPER.readTree(rr.toFile());
        assertThat(json.get("dataset").asText()).contains("itm over the top 4");
        assertThat(json.path("text_to_image").get("r10").asDouble()).isBetween(0.0, 1.0);
        Path features = tmp.resolve("features.json");
        CliTest.Result e = CliTest.run("embed", "--model", run.toString(), "--text", "a photo of a red.", "--text", "a photo of a blue.",
                "--output", features.toString());
        assertThat(e.code()).as(e.err()).isZero();
        assertThat(Json.MAPPER.readTree(features.toFile()).get("text_features")).hasSize(2);
        // a resumed run keeps its tasks; a CLIP model cannot be re-ranked with ITM
        CliTest.Result again = CliTest.run("pretrain", "--out", run.toString(), "--resume", "--tasks", "ita");
        assertThat(again.code()).isNotZero();
        assertThat(again.err()).contains("--tasks").contains("differs from the run's").doesNotContain("Exception");
        Path clip = tmp.resolve("clip");
        assertThat(CliTest.run("train", "--data", data.toString(), "--arch", config.toString(), "--out", clip.toString(), "--epochs", "1",
                "--batch-size", "8", "--threads", "1").code()).isZero();
        CliTest.Result notFusion = CliTest.run("eval", "retrieval", "--model", clip.toString(), "--data", data.toString(), "--rerank-itm", "4");
        assertThat(notFusion.code()).isNotZero();
        assertThat(notFusion.err()).contains("ITM re-ranking").doesNotContain("\tat ");
        CliTest.Result badTask = CliTest.run("pretrain", "--data", data.toString(), "--out", tmp.resolve("x").toString(), "--epochs", "1",
                "--tasks", "ita,mfm");
        assertThat(badTask.code()).isNotZero();
        assertThat(badTask.err().strip().lines().count()).isEqualTo(1);
        assertThat(badTask.err()).contains("mfm");
        assertThat(tmp.resolve("x")).doesNotExist();
    }

    @Test
    void singleStreamOnFrameFeaturesCannotEmbed() throws Exception {
        int clips = 12, frames = 4, dim = 6;
        float[] features = new float[clips * frames * dim];
        boolean[] mask = new boolean[clips * frames];
        List<String> captions = new ArrayList<>();
        java.util.Random rng = new java.util.Random(1);
        for (int c = 0; c < clips; c++) {
            captions.add(c % 2 == 0 ? "a clip of rain" : "a clip of snow");
            for (int t = 0; t < frames; t++) {
                mask[c * frames + t] = t < 2 + c % 3;
                for (int k = 0; k < dim; k++) features[(c * frames + t) * dim + k] = (float) rng.nextGaussian() + (k == c % 2 ? 2 : 0);
            }
        }
        Path file = tmp.resolve("clips.safetensors"), run = tmp.resolve("ss");
        dev.clip4j.data.FrameFeatureDataset.write(file, features, clips, frames, dim, mask, captions);
        CliTest.Result t = CliTest.run("pretrain", "--model-type", "single-stream", "--data", file.toString(), "--out", run.toString(),
                "--epochs", "2", "--batch-size", "4", "--warmup", "1", "--threads", "1");
        assertThat(t.code()).as(t.err()).isZero();
        assertThat(run.resolve("loss_mfm.png")).exists();
        CliTest.Result e = CliTest.run("embed", "--model", run.toString(), "--text", "rain");
        assertThat(e.code()).isNotZero();
        assertThat(e.err()).contains("single-stream").contains("no separate image or text features").doesNotContain("\tat ");
        CliTest.Result hard = CliTest.run("pretrain", "--model-type", "single-stream", "--data", file.toString(), "--out",
                tmp.resolve("h").toString(), "--epochs", "1", "--batch-size", "4", "--itm-negatives", "hard");
        assertThat(hard.code()).isNotZero();
        assertThat(hard.err()).contains("shuffle");
    }
}
