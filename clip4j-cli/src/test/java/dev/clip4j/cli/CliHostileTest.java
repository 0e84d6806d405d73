package dev.clip4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.clip4j.checkpoint.ModelLocator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static dev.clip4j.cli.CliTest.fixture;
import static dev.clip4j.cli.CliTest.run;
import static org.assertj.core.api.Assertions.assertThat;

/** The command line under hostile or careless use: every case a clean one-line error or a clean stop, never a crash. */
class CliHostileTest {
    @TempDir
    static Path shared;
    static Path data, config;

    @TempDir
    Path tmp;

    @BeforeAll
    static void tinyData() throws IOException {
        Random rng = new Random(3);
        for (String cls : new String[] {"red", "blue"}) {
            Path dir = Files.createDirectories(shared.resolve("data").resolve(cls));
            for (int i = 0; i < 8; i++) {
                BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_3BYTE_BGR);
                for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) {
                    int v = rng.nextInt(40);
                    img.setRGB(x, y, cls.equals("red") ? (215 + v) << 16 | v << 8 | v : v << 16 | v << 8 | (215 + v));
                }
                ImageIO.write(img, "png", dir.resolve(i + ".png").toFile());
            }
        }
        data = shared.resolve("data");
        config = shared.resolve("tiny.json");
        Files.writeString(config, "{\"name\": \"cli-tiny\", \"embed_dim\": 16, \"image_resolution\": 16, \"vision_layers\": [1],"
                + " \"vision_width\": 32, \"vision_patch_size\": 8, \"vision_heads\": 1, \"context_length\": 77,"
                + " \"vocab_size\": 49408, \"transformer_width\": 32, \"transformer_heads\": 1, \"transformer_layers\": 1}");
    }

    static void assertOneLineError(CliTest.Result r, String... contains) {
        assertThat(r.code()).as(r.err()).isEqualTo(1);
        assertThat(r.err().lines().toList()).as(r.err()).hasSize(1);
        assertThat(r.err()).startsWith("clip4j: error: ").doesNotContain("Exception").doesNotContain("\tat ");
        for (String c : contains) assertThat(r.err()).contains(c);
    }

    /** {@code train} on the tiny data; {@code extra} adds options or replaces the defaults given here. */
    private List<String> train(Path out, String... extra) {
        java.util.LinkedHashMap<String, String> opts = new java.util.LinkedHashMap<>();
        opts.put("--data", data.toString());
        opts.put("--arch", config.toString());
        opts.put("--out", out.toString());
        opts.put("--batch-size", "8");
        opts.put("--warmup", "2");
        opts.put("--threads", "1");
        for (int i = 0; i + 1 < extra.length; i += 2) opts.put(extra[i], extra[i + 1]);
        List<String> args = new ArrayList<>(List.of("train"));
        opts.forEach((k, v) -> {
            args.add(k);
            args.add(v);
        });
        return args;
    }

    @Test
    void embedTakesARunDirectory() {
        Path out = tmp.resolve("run");
        CliTest.Result t = run(train(out, "--epochs", "2").toArray(String[]::new));
        assertThat(t.code()).as(t.err()).isZero();
        CliTest.Result e = run("embed", "--model", out.toString(), "--text", "a red square", "--normalize");
        assertThat(e.code()).as(e.err()).isZero();
        assertThat(e.out()).contains("text_features");
    }

    @Test
    void missingDatasetIsOneCleanLine() {
        assertOneLineError(run(train(tmp.resolve("run"), "--epochs", "1", "--data", tmp.resolve("nonexistent").toString())
                .toArray(String[]::new)), "unknown dataset", "nonexistent");
        assertThat(tmp.resolve("run")).doesNotExist();
    }

    @Test
    void badNumbersAreOneLineErrors() {
        Path out = tmp.resolve("run");
        assertOneLineError(run(train(out, "--epochs", "1", "--lr", "NaN").toArray(String[]::new)), "lr must be a finite number");
        assertOneLineError(run(train(out, "--epochs", "1", "--lr", "Infinity").toArray(String[]::new)), "lr");
        assertOneLineError(run(train(out, "--epochs", "1", "--micro-batch", "-2").toArray(String[]::new)), "microBatch");
        assertOneLineError(run(train(out, "--epochs", "1", "--weight-decay", "-1").toArray(String[]::new)), "weightDecay");
        assertOneLineError(run(train(out, "--epochs", "1", "--clip-norm", "-1").toArray(String[]::new)), "clipNorm");
        assertOneLineError(run(train(out, "--epochs", "1", "--warmup", "-1").toArray(String[]::new)), "warmup");
        assertOneLineError(run(train(out, "--time-budget", "-5m").toArray(String[]::new)), "must be positive", "-5m");
        assertOneLineError(run("embed", "--model", fixture("vit/weights.safetensors").toString(), "--text", "x", "--threads", "-1"));
        assertThat(out).doesNotExist();
        assertOneLineError(run("tokenize", "--context-length", "2000000000", "a cat"), "--context-length must be 2 to 8192",
                "clip4j.limits.maxContextLength");
        assertOneLineError(run("wise-ft", "--zero-shot", fixture("vit/weights.safetensors").toString(), "--fine-tuned",
                fixture("vit/weights.safetensors").toString(), "--alpha", "NaN", "--out", tmp.resolve("w").toString()), "--alpha");
        assertThat(tmp.resolve("w")).doesNotExist();
    }

    /** The seed's other objectives from the command line: each trains and logs its terms; bad values are one line. */
    @Test
    void lossesTemperatureAndSimclrFromTheCommandLine() throws Exception {
        for (String[] extra : new String[][] {{"--loss", "multi-positive"}, {"--loss", "siglip", "--simclr-weight", "1",
                "--simclr-hidden", "16"}, {"--temperature", "fixed:0.05"}}) {
            Path out = tmp.resolve("run-" + String.join("", extra).replaceAll("[^a-z0-9]", ""));
            List<String> args = new ArrayList<>(train(out, "--epochs", "1"));
            args.addAll(List.of(extra));
            CliTest.Result r = run(args.toArray(String[]::new));
            assertThat(r.code()).as(String.join(" ", extra) + ": " + r.err()).isZero();
            String metrics = Files.readString(out.resolve("metrics.jsonl"));
            assertThat(metrics).contains("\"loss\"");
            if (extra.length > 2) assertThat(metrics).contains("\"simclr\"").contains("\"logit_bias\"");
        }
        assertOneLineError(run(train(tmp.resolve("bad"), "--epochs", "1", "--loss", "softmax").toArray(String[]::new)), "loss must be one of");
        assertOneLineError(run(train(tmp.resolve("bad"), "--epochs", "1", "--temperature", "fixed:0").toArray(String[]::new)), "temperature must be");
        assertOneLineError(run(train(tmp.resolve("bad"), "--epochs", "1", "--simclr-weight", "1", "--micro-batch", "4")
                .toArray(String[]::new)), "micro-batches");
    }

    @Test
    void wiseFtNeverOverwrites() throws IOException {
        Path existing = Files.createDirectories(tmp.resolve("model"));
        Files.writeString(existing.resolve("keep.txt"), "mine");
        assertOneLineError(run("wise-ft", "--zero-shot", fixture("vit/weights.safetensors").toString(), "--fine-tuned",
                fixture("vit/weights.safetensors").toString(), "--out", existing.toString()), "already exists");
        assertThat(Files.readString(existing.resolve("keep.txt"))).isEqualTo("mine");
    }

    @Test
    void resumeRefusesChangedRunOptionsAndExtendsTheSchedule() throws Exception {
        Path out = tmp.resolve("run");
        assertThat(run(train(out, "--epochs", "2").toArray(String[]::new)).code()).isZero();
        String report = Files.readString(out.resolve("report.md"));
        assertOneLineError(run("train", "--out", out.toString(), "--resume", "--lr", "0.01"), "--lr 0.01 differs from the run's 0.001");
        assertOneLineError(run("train", "--out", out.toString(), "--resume", "--data", "mnist"), "--data");
        assertOneLineError(run("train", "--out", out.toString(), "--resume", "--batch-size", "4"), "--batch-size");
        CliTest.Result done = run("train", "--out", out.toString(), "--resume");
        assertThat(done.code()).as(done.err()).isZero();
        assertThat(done.out()).contains("already finished");
        assertThat(Files.readString(out.resolve("report.md"))).isEqualTo(report);
        CliTest.Result more = run("train", "--out", out.toString(), "--resume", "--epochs", "3");
        assertThat(more.code()).as(more.err()).isZero();
        JsonNode json = Json.MAPPER.readTree(more.out());
        assertThat(json.get("steps").asLong()).isEqualTo(6);
        assertThat(Files.readString(out.resolve("report.md"))).doesNotContain("NaN");
    }

    @Test
    void secondTrainingIntoOneDirectoryIsRefused() throws Exception {
        Path out = tmp.resolve("run");
        try (dev.clip4j.io.RunLock held = dev.clip4j.io.RunLock.acquire(out)) {
            assertOneLineError(run(train(out, "--epochs", "1").toArray(String[]::new)), "in use");
        }
    }

    @Test
    void craftedTorchScriptRunsNoCodeThroughEmbed() throws Exception {
        Path target = tmp.resolve("victim.sh"), evil = tmp.resolve("ViT-B-32.pt");
        dev.clip4j.hostile.CraftedTorchScript.write(fixture("vit/model_jit.pt"), evil, target);
        CliTest.Result r = run("embed", "--model", evil.toString(), "--image", fixture("preprocess/chelsea.png").toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(target).doesNotExist();
    }

    @Test
    void thousandsOfLabelsAreEncodedInBatchesWithTheSameResult() throws Exception {
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < 600; i++) labels.add("l" + i);
        Path model = tmp.resolve("m");
        assertThat(run(train(tmp.resolve("run"), "--epochs", "1").toArray(String[]::new)).code()).isZero();
        CliTest.Result batched = run("classify", "--model", tmp.resolve("run").toString(), "--labels", String.join(",", labels), "--json",
                fixture("preprocess/chelsea.png").toString());
        assertThat(batched.code()).as(batched.err()).isZero();
        System.setProperty("clip4j.limits.labelsPerBatch", "1000");
        CliTest.Result whole;
        try {
            whole = run("classify", "--model", tmp.resolve("run").toString(), "--labels", String.join(",", labels), "--json",
                    fixture("preprocess/chelsea.png").toString());
        } finally {
            System.clearProperty("clip4j.limits.labelsPerBatch");
        }
        JsonNode a = Json.MAPPER.readTree(batched.out()).get("probs"), b = Json.MAPPER.readTree(whole.out()).get("probs");
        double sum = 0;
        for (String l : labels) {
            sum += a.get(l).asDouble();
            // one float32 ulp of the largest probabilities: the label batches sum in another order
            assertThat(a.get(l).asDouble()).isCloseTo(b.get(l).asDouble(), org.assertj.core.api.Assertions.within(1e-6));
        }
        assertThat(sum).isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-4));
    }

    @Test
    void captionsFileWithBomAndBadBytes() throws Exception {
        Path img = fixture("preprocess/chelsea.png");
        Path bom = tmp.resolve("bom.tsv");
        Files.write(bom, ("\uFEFFimage\tcaption\n" + img + "\ta cat\n" + img + "\tanother cat\n").getBytes(StandardCharsets.UTF_8));
        CliTest.Result r = run(train(tmp.resolve("run"), "--epochs", "1", "--batch-size", "2", "--data", bom.toString()).toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        Path latin = tmp.resolve("latin1.tsv");
        Files.write(latin, (img + "\ta cat\n" + img + "\tun caf\u00e9\n").getBytes(StandardCharsets.ISO_8859_1));
        assertOneLineError(run(train(tmp.resolve("run2"), "--epochs", "1", "--batch-size", "2", "--data", latin.toString())
                .toArray(String[]::new)), "latin1.tsv:2", "not UTF-8");
    }

    // ---- child processes: real signals and real file descriptors ----

    private static ProcessBuilder cli(Path dir, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        pb.environment().put("OPENBLAS_NUM_THREADS", "1");
        return pb;
    }

    @Test
    void failedWritesToStandardOutputExitNonZero() throws Exception {
        for (List<String> args : List.of(List.of("tokenize", "a photo of a cat"),
                List.of("embed", "--model", fixture("vit/weights.safetensors").toString(), "--image", fixture("preprocess/chelsea.png").toString()))) {
            Process p = cli(tmp, args).redirectOutput(new File("/dev/full")).start();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(args + ": " + err).isEqualTo(Main.EXIT_OUTPUT_FAILED);
            assertThat(err).contains("could not write standard output");
        }
    }

    /**
     * SIGTERM at random moments of training until 12 tries were stopped by it (at most 40 tries), each try resuming the
     * last: never a JVM crash or an hs_err file, always exit 143 (or 0 if the run had finished; on a fast CPU the 300
     * steps can end between signals, and the next try starts a new run), and the run always resumable; a last resume
     * finishes it.
     */
    @Test
    void sigtermDuringTrainingNeverCrashesAndStaysResumable() throws Exception {
        Path work = Files.createDirectories(tmp.resolve("work"));
        Path out = work.resolve("run0");
        Random rng = new Random(11);
        int stopped = 0, finished = 0;
        for (int i = 0; i < 40 && stopped < 12; i++) {
            List<String> args = ModelLocator.newestCheckpoint(out) == null
                    ? train(out, "--epochs", "150", "--checkpoint-every", "7")
                    : List.of("train", "--out", out.toString(), "--resume");
            Process p = cli(work, args).redirectErrorStream(true).start();
            Thread drain = drain(p);
            Thread.sleep(600 + rng.nextInt(3400));
            // SIGTERM through the handle: Process.destroy() also closes our ends of the child's pipes, so a child that
            // stops cleanly and prints its last line would find stdout gone (EPIPE, exit 74) — a race of the test, not the CLI
            p.toHandle().destroy();
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("try " + i + " ends").isTrue();
            drain.join();
            String log = output.toString();
            assertThat(p.exitValue()).as("try " + i + ": " + log).isIn(0, 143);
            assertThat(log).as("try " + i).doesNotContain("SIGSEGV").doesNotContain("fatal error");
            if (p.exitValue() == 143) stopped++;
            else out = work.resolve("run" + ++finished); // the run ended before the signal: the next try starts another
        }
        try (var files = Files.list(work)) {
            assertThat(files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("hs_err"))).isEmpty();
        }
        assertThat(stopped).as("tries stopped by the signal").isEqualTo(12);
        List<String> last = ModelLocator.newestCheckpoint(out) == null
                ? train(out, "--epochs", "150", "--checkpoint-every", "7") // stopped before its first checkpoint
                : List.of("train", "--out", out.toString(), "--resume");
        Process end = cli(work, last).redirectErrorStream(true).start();
        Thread drain = drain(end);
        assertThat(end.waitFor(300, TimeUnit.SECONDS)).isTrue();
        drain.join();
        assertThat(end.exitValue()).as(output.toString()).isZero();
        assertThat(output.toString()).containsAnyOf("\"steps\":300", "already finished");
    }

    private final StringBuffer output = new StringBuffer();

    private Thread drain(Process p) {
        output.setLength(0);
        Thread t = new Thread(() -> {
            try {
                output.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                output.append(e);
            }
        });
        t.start();
        return t;
    }
}
