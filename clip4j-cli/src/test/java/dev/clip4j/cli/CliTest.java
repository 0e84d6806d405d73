package dev.clip4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The CLI contract scripts rely on: output formats, exit codes, one-line errors. */
class CliTest {
    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {}


    static Path fixture(String rel) {
        return Path.of("../testdata/reference").resolve(rel).toAbsolutePath();
    }

    static Result run(String... args) {
        PrintStream oldOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            var cl = Main.commandLine();
            cl.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
            int code = cl.execute(args);
            System.out.flush();
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
        }
    }

    @Test
    void everyCommandHasHelp() {
        for (String[] cmd : new String[][] {{"train"}, {"quickstart"}, {"eval", "zero-shot"}, {"wise-ft"}, {"embed"}}) {
            String[] args = java.util.Arrays.copyOf(cmd, cmd.length + 1);
            args[cmd.length] = "--help";
            Result r = run(args);
            assertThat(r.code()).as(String.join(" ", args)).isZero();
            assertThat(r.out()).as(String.join(" ", args)).startsWith("Usage: clip4j " + String.join(" ", cmd));
        }
    }

    @Test
    void tokenizePrintsOneJsonArrayPerText() throws Exception {
        Path input = tmp.resolve("texts.json");
        Files.writeString(input, "[\"a diagram\", \"a dog\"]");
        Result r = run("tokenize", "--context-length", "8", "--input", input.toString(), "a photo of a cat");
        assertThat(r.code()).isZero();
        assertThat(r.out().lines().toList()).containsExactly(
                "[49406, 320, 1125, 539, 320, 2368, 49407, 0]",
                "[49406, 320, 22697, 49407, 0, 0, 0, 0]",
                "[49406, 320, 1929, 49407, 0, 0, 0, 0]");
    }

    @Test
    void tokenizeTooLongWithoutTruncationIsOneLineError() {
        Result r = run("tokenize", "--no-truncate", "word ".repeat(100));
        assertThat(r.code()).isNotZero();
        assertThat(r.err().lines().toList()).hasSize(1);
        assertThat(r.err()).startsWith("clip4j: error: Input").contains("too long for context length 77");
    }

    @Test
    void embedWritesFeaturesInInputOrder() throws Exception {
        Path out = tmp.resolve("features.json");
        Result r = run("embed", "--model", fixture("vit/model_jit.pt").toString(),
                "--image", fixture("preprocess/chelsea.png").toString(), "--image", fixture("preprocess/coffee.png").toString(),
                "--normalize", "--output", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode json = Json.MAPPER.readTree(out.toFile());
        assertThat(json.get("image_features")).hasSize(2);
        assertThat(json.get("image_features").get(0)).hasSize(32);
        assertThat(json.get("text_features")).isEmpty();
        double norm = 0;
        for (JsonNode v : json.get("image_features").get(1)) norm += v.asDouble() * v.asDouble();
        assertThat(norm).isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-5));
    }

    /** {@link #run}, with what the command prints to System.err itself (the backend's notes) added to {@code notes}. */
    static Result runNoted(StringBuilder notes, String... args) {
        java.io.PrintStream oldErr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            return run(args);
        } finally {
            System.setErr(oldErr);
            notes.append(captured.toString(StandardCharsets.UTF_8));
        }
    }

    /**
     * --backend: ONNX Runtime (auto's choice for float32 from 64 images or 2,048 texts) and libtorch give the same features to 1e-5 for images and
     * texts of a trained ViT with CLIP's vocabulary; int8 runs on ONNX Runtime (auto's choice for any input count)
     * within cosine 0.99 of float32; onnx with bf16, an unknown backend, and a token outside a tiny model's vocabulary
     * are one-line errors naming why.
     */
    @Test
    void embedOnEitherBackend() throws Exception {
        Path model = tmp.resolve("run");
        Result t = run("train", "--data", redBlueDataAndConfig().getParent().resolve("data").toString(), "--arch", tmp.resolve("tiny.json").toString(),
                "--out", model.toString(), "--epochs", "1", "--batch-size", "8", "--threads", "1");
        assertThat(t.code()).as(t.err()).isZero();
        double[][] f = new double[3][];
        String[] backends = {"auto", "torch", "onnx"};
        for (int i = 0; i < backends.length; i++) {
            Path out = tmp.resolve("backend" + i + ".json");
            StringBuilder notes = new StringBuilder();
            Result r = runNoted(notes, "embed", "--model", model.toString(), "--image", fixture("preprocess/chelsea.png").toString(),
                    "--text", "a photo of a cat", "--precision", "fp32", "--backend", backends[i], "--output", out.toString());
            assertThat(r.code()).as(r.err()).isZero();
            if (i == 0) assertThat(notes.toString()).contains("--backend auto: torch (1 image and 1 text: ONNX Runtime's start-up pays from 64 images or 2048 texts)");
            JsonNode json = Json.MAPPER.readTree(out.toFile());
            java.util.List<Double> values = new java.util.ArrayList<>();
            for (String key : new String[] {"image_features", "text_features"}) json.get(key).get(0).forEach(v -> values.add(v.asDouble()));
            f[i] = values.stream().mapToDouble(Double::doubleValue).toArray();
        }
        assertThat(f[0]).as("auto keeps torch for two inputs").containsExactly(f[1]);
        double err = 0, scale = 0;
        for (int k = 0; k < f[1].length; k++) {
            err = Math.max(err, Math.abs(f[2][k] - f[1][k]));
            scale = Math.max(scale, Math.abs(f[1][k]));
        }
        assertThat(err / scale).as("onnx against torch").isLessThan(1e-5);
        for (String b : new String[] {"onnx", "auto"}) { // int8 on ONNX Runtime, auto's choice whatever the input count
            Path out = tmp.resolve("int8-" + b + ".json");
            StringBuilder notes = new StringBuilder();
            Result int8 = runNoted(notes, "embed", "--model", model.toString(), "--image", fixture("preprocess/chelsea.png").toString(),
                    "--text", "a photo of a cat", "--precision", "int8", "--backend", b, "--output", out.toString());
            assertThat(int8.code()).as(int8.err()).isZero();
            assertThat(notes.toString()).doesNotContain("--backend auto: torch");
            JsonNode json = Json.MAPPER.readTree(out.toFile());
            for (String key : new String[] {"image_features", "text_features"}) {
                double[] q = new double[json.get(key).get(0).size()];
                for (int k = 0; k < q.length; k++) q[k] = json.get(key).get(0).get(k).asDouble();
                double[] e = java.util.Arrays.copyOfRange(f[1], key.startsWith("image") ? 0 : f[1].length - q.length,
                        key.startsWith("image") ? q.length : f[1].length);
                double dot = 0, nq = 0, ne = 0;
                for (int k = 0; k < q.length; k++) {
                    dot += q[k] * e[k];
                    nq += q[k] * q[k];
                    ne += e[k] * e[k];
                }
                assertThat(dot / Math.sqrt(nq * ne)).as("%s int8 %s against fp32", b, key).isGreaterThanOrEqualTo(0.99);
            }
        }
        Result bf16 = run("embed", "--model", fixture("vit/model_jit.pt").toString(), "--text", "x", "--precision", "bf16", "--backend", "onnx");
        assertThat(bf16.code()).isEqualTo(1);
        assertThat(bf16.err()).contains("--backend onnx cannot run this model: it runs float32 and int8, not bf16").doesNotContain("\tat ");
        Result bad = run("embed", "--model", fixture("vit/model_jit.pt").toString(), "--text", "x", "--backend", "gpu");
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).contains("unknown backend 'gpu' (use torch, onnx or auto)");
        Result vocab = run("embed", "--model", fixture("vit/model_jit.pt").toString(), "--text", "x", "--precision", "fp32", "--backend", "onnx");
        assertThat(vocab.code()).isEqualTo(1);
        assertThat(vocab.err()).contains("outside the model's vocabulary of 512").doesNotContain("Gather");
    }

    /**
     * Inference defaults to --precision auto, which the suite fixes to fp32 (CLIP4J_AUTO_PRECISION in pom.xml): the
     * default's features are fp32's exactly; bf16's are close; an unknown precision names the three choices.
     */
    @Test
    void embedDefaultsToAutoPrecision() throws Exception {
        double[][] f = new double[4][];
        String[][] precision = {{}, {"--precision", "fp32"}, {"--precision", "bf16"}, {"--precision", "int8"}};
        for (int i = 0; i < precision.length; i++) {
            Path out = tmp.resolve("features" + i + ".json");
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("embed", "--model", fixture("vit/model_jit.pt").toString(),
                    "--image", fixture("preprocess/chelsea.png").toString(), "--normalize", "--output", out.toString()));
            args.addAll(java.util.List.of(precision[i]));
            Result r = run(args.toArray(String[]::new));
            assertThat(r.code()).as(r.err()).isZero();
            JsonNode v = Json.MAPPER.readTree(out.toFile()).get("image_features").get(0);
            f[i] = new double[v.size()];
            for (int k = 0; k < v.size(); k++) f[i][k] = v.get(k).asDouble();
        }
        assertThat(f[0]).containsExactly(f[1]);
        for (int i = 2; i < 4; i++) {
            double cos = 0;
            for (int k = 0; k < f[1].length; k++) cos += f[1][k] * f[i][k];
            assertThat(cos).as("%s against fp32", precision[i][1]).isGreaterThan(0.99).isLessThan(1 + 1e-6);
        }
        assertThat(f[3]).as("int8 ran").isNotEqualTo(f[1]);
        Result bad = run("embed", "--model", fixture("vit/model_jit.pt").toString(), "--text", "x", "--precision", "fp16");
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).contains("fp32, bf16, int8 or auto");
        Result train = run("train", "--data", tmp.toString(), "--out", tmp.resolve("run").toString(), "--precision", "int8");
        assertThat(train.code()).isNotZero();
        assertThat(train.err()).contains("--precision int8 is for inference");
    }

    @Test
    void badInputsAreOneLineErrorsNamingTheFile() throws Exception {
        Path notPng = tmp.resolve("not-an-image.png");
        Files.writeString(notPng, "hello");
        Result r = run("classify", "--model", fixture("resnet/state_dict.pt").toString(), "--labels", "a,b", notPng.toString());
        assertThat(r.code()).isNotZero();
        assertThat(r.err().lines().toList()).hasSize(1);
        assertThat(r.err()).contains("not-an-image.png").contains("not an image");

        Result missing = run("embed", "--model", tmp.resolve("missing.pt").toString(), "--text", "x");
        assertThat(missing.code()).isNotZero();
        assertThat(missing.err()).contains("missing.pt");
    }

    @Test
    void benchPrintsOneJsonLine() throws Exception {
        Result r = run("bench", "--arch", "tiny-vit", "--batch", "2", "--runs", "2", "--threads", "1", "--precision", "fp32");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode json = Json.MAPPER.readTree(r.out());
        assertThat(json.get("arch").asText()).isEqualTo("tiny-vit");
        assertThat(json.get("images_per_sec_median").asDouble()).isPositive();
        assertThat(json.get("images_per_sec_best").asDouble()).isGreaterThanOrEqualTo(json.get("images_per_sec_median").asDouble());
        for (String precision : new String[] {"int8", "bf16"}) { // a checkpoint's image tower, streamed in
            Result m = run("bench", "--model", fixture("vit/weights.safetensors").toString(), "--batch", "2", "--runs", "1",
                    "--threads", "1", "--precision", precision);
            assertThat(m.code()).as(m.err()).isZero();
            JsonNode j = Json.MAPPER.readTree(m.out());
            assertThat(j.get("model").asText()).endsWith("weights.safetensors");
            assertThat(j.get("precision").asText()).isEqualTo(precision);
            assertThat(j.get("peak_rss_mb").asLong()).isPositive();
        }
    }

    /** train, then eval zero-shot on the run directory, on a tiny two-class folder dataset. */
    /** Class folders of red and blue noise (8 each) and a tiny config with CLIP's vocabulary; returns the config. */
    private Path redBlueDataAndConfig() throws IOException {
        return redBlueDataAndConfig(tmp);
    }

    /** Class folders {@code dir/data/red} and {@code dir/data/blue} of 8 noisy 16 px squares each, and a tiny ViT config. */
    static Path redBlueDataAndConfig(Path dir) throws IOException {
        java.util.Random rng = new java.util.Random(3);
        for (String cls : new String[] {"red", "blue"}) {
            Path d = Files.createDirectories(dir.resolve("data").resolve(cls));
            for (int i = 0; i < 8; i++) {
                java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(16, 16, java.awt.image.BufferedImage.TYPE_3BYTE_BGR);
                for (int y = 0; y < 16; y++) for (int x = 0; x < 16; x++) {
                    int v = rng.nextInt(40);
                    img.setRGB(x, y, cls.equals("red") ? (215 + v) << 16 | v << 8 | v : v << 16 | v << 8 | (215 + v));
                }
                javax.imageio.ImageIO.write(img, "png", d.resolve(i + ".png").toFile());
            }
        }
        Path config = dir.resolve("tiny.json");
        Files.writeString(config, "{\"name\": \"cli-tiny\", \"embed_dim\": 16, \"image_resolution\": 16, \"vision_layers\": [1],"
                + " \"vision_width\": 32, \"vision_patch_size\": 8, \"vision_heads\": 1, \"context_length\": 77,"
                + " \"vocab_size\": 49408, \"transformer_width\": 32, \"transformer_heads\": 1, \"transformer_layers\": 1}");
        return config;
    }

    @Test
    void trainThenEvaluateZeroShot() throws Exception {
        Path config = redBlueDataAndConfig();
        Path run = tmp.resolve("run");
        Result t = run("train", "--data", tmp.resolve("data").toString(), "--arch", config.toString(), "--out", run.toString(),
                "--epochs", "20", "--batch-size", "8", "--lr", "1e-3", "--warmup", "2", "--threads", "1");
        assertThat(t.code()).as(t.err()).isZero();
        assertThat(Files.exists(run.resolve("checkpoint/model.safetensors"))).isTrue();
        assertThat(Files.exists(run.resolve("report.md"))).isTrue();
        // the report names the BLAS this process's float32 GEMMs ran on
        String blas = dev.clip4j.torch.Torch.blas() == dev.clip4j.torch.Blas.MKL ? "oneMKL" : "OpenBLAS";
        assertThat(Files.readString(run.resolve("report.md"))).contains("| precision | fp32, float32 GEMMs on " + blas + " |");
        assertThat(Files.exists(run.resolve("loss.png"))).isTrue();

        Path report = tmp.resolve("zs.json");
        Result e = run("eval", "zero-shot", "--model", run.toString(), "--data", tmp.resolve("data").toString(),
                "--output", report.toString(), "--confusion-png", tmp.resolve("cm.png").toString());
        assertThat(e.code()).as(e.err()).isZero();
        JsonNode json = Json.MAPPER.readTree(report.toFile());
        assertThat(json.get("top1").asDouble()).isGreaterThan(0.5);
        assertThat(Files.size(tmp.resolve("cm.png"))).isPositive();
        // the same evaluation in int8; a precision eval does not know, and ITM re-ranking outside fp32, are one-line errors
        Path int8 = tmp.resolve("zs8.json");
        Result e8 = run("eval", "zero-shot", "--model", run.toString(), "--data", tmp.resolve("data").toString(),
                "--precision", "int8", "--output", int8.toString());
        assertThat(e8.code()).as(e8.err()).isZero();
        assertThat(Json.MAPPER.readTree(int8.toFile()).get("top1").asDouble()).isGreaterThan(0.5);
        // and on ONNX Runtime: fp32 scores as libtorch does (features within 1e-5: at most a near-tie flips), int8 runs
        Path onnx = tmp.resolve("zs-onnx.json"), onnx8 = tmp.resolve("zs8-onnx.json"), rr8 = tmp.resolve("rr8-onnx.json");
        Result eo = run("eval", "zero-shot", "--model", run.toString(), "--data", tmp.resolve("data").toString(),
                "--backend", "onnx", "--output", onnx.toString());
        assertThat(eo.code()).as(eo.err()).isZero();
        JsonNode jo = Json.MAPPER.readTree(onnx.toFile());
        assertThat(jo.get("top1").asDouble()).isCloseTo(json.get("top1").asDouble(),
                org.assertj.core.api.Assertions.within(1.0 / json.get("examples").asInt() + 1e-9));
        Result eo8 = run("eval", "zero-shot", "--model", run.toString(), "--data", tmp.resolve("data").toString(),
                "--backend", "onnx", "--precision", "int8", "--output", onnx8.toString());
        assertThat(eo8.code()).as(eo8.err()).isZero();
        assertThat(Json.MAPPER.readTree(onnx8.toFile()).get("top1").asDouble()).isGreaterThan(0.5);
        Result ro8 = run("eval", "retrieval", "--model", run.toString(), "--data", tmp.resolve("data").toString(),
                "--backend", "onnx", "--precision", "int8", "--output", rr8.toString());
        assertThat(ro8.code()).as(ro8.err()).isZero();
        assertThat(Json.MAPPER.readTree(rr8.toFile()).path("image_to_text").get("r10").asDouble()).isBetween(0.0, 1.0);
        Result bf16onnx = run("eval", "zero-shot", "--model", run.toString(), "--data", tmp.resolve("data").toString(),
                "--backend", "onnx", "--precision", "bf16");
        assertThat(bf16onnx.code()).isEqualTo(1);
        assertThat(bf16onnx.err()).contains("--backend onnx cannot run this model: it runs float32 and int8, not bf16");
        Result gpu = run("eval", "retrieval", "--model", run.toString(), "--data", tmp.resolve("data").toString(), "--backend", "gpu");
        assertThat(gpu.code()).isEqualTo(1);
        assertThat(gpu.err()).contains("unknown backend 'gpu' (use torch, onnx or auto)").doesNotContain("\tat ");
        Result bad = run("eval", "zero-shot", "--model", run.toString(), "--data", tmp.resolve("data").toString(), "--precision", "auto");
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).contains("--precision: unknown precision 'auto' (use fp32, bf16 or int8)");
        Result rerank = run("eval", "retrieval", "--model", run.toString(), "--data", tmp.resolve("data").toString(),
                "--precision", "int8", "--rerank-itm", "4");
        assertThat(rerank.code()).isEqualTo(1);
        assertThat(rerank.err()).contains("--rerank-itm runs in fp32 only");

        Result again = run("train", "--data", tmp.resolve("data").toString(), "--out", run.toString(), "--epochs", "1");
        assertThat(again.code()).isNotZero();
        assertThat(again.err()).contains("already holds a training run").contains("--resume");
    }

    /** FILIP from the command line: the run's model scores token-wise, and eval picks that up from the checkpoint. */
    @Test
    void trainFilipThenEvaluateTokenWise() throws Exception {
        Path config = redBlueDataAndConfig();
        Path run = tmp.resolve("filip");
        Result t = run("train", "--data", tmp.resolve("data").toString(), "--arch", config.toString(), "--out", run.toString(),
                "--epochs", "20", "--batch-size", "8", "--lr", "1e-3", "--warmup", "2", "--threads", "1", "--loss", "filip",
                "--micro-batch", "4");
        assertThat(t.code()).as(t.err()).isZero();
        assertThat(Files.readString(run.resolve("checkpoint/clip4j.json"))).contains("\"scoring\" : \"token-wise\"");
        Path report = tmp.resolve("zs.json");
        Result e = run("eval", "zero-shot", "--model", run.toString(), "--data", tmp.resolve("data").toString(), "--output", report.toString());
        assertThat(e.code()).as(e.err()).isZero();
        assertThat(Json.MAPPER.readTree(report.toFile()).get("top1").asDouble()).isGreaterThan(0.5);
        Path rr = tmp.resolve("rr.json");
        Result r = run("eval", "retrieval", "--model", run.toString(), "--data", tmp.resolve("data").toString(), "--output", rr.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(Json.MAPPER.readTree(rr.toFile()).path("image_to_text").get("r10").asDouble()).isBetween(0.0, 1.0);
        Result onnx = run("eval", "zero-shot", "--model", run.toString(), "--data", tmp.resolve("data").toString(), "--backend", "onnx");
        assertThat(onnx.code()).isEqualTo(1);
        assertThat(onnx.err()).contains("--backend onnx cannot run this model: a model scored token-wise");
    }

    /** CoOp from the command line: adapt, evaluate (also on unseen classes), classify with the adapter; bad input is one line. */
    @Test
    void adaptCoOpThenEvaluateAndClassify() throws Exception {
        Path config = redBlueDataAndConfig();
        Path run = tmp.resolve("clip");
        Result t = run("train", "--data", tmp.resolve("data").toString(), "--arch", config.toString(), "--out", run.toString(),
                "--epochs", "2", "--batch-size", "8", "--warmup", "1", "--threads", "1");
        assertThat(t.code()).as(t.err()).isZero();
        Path adapter = tmp.resolve("coop");
        Result a = run("adapt", "coop", "--model", run.toString(), "--data", tmp.resolve("data").toString(), "--shots", "4",
                "--epochs", "5", "--n-ctx", "4", "--out", adapter.toString(), "--threads", "1");
        assertThat(a.code()).as(a.err()).isZero();
        assertThat(a.out()).contains("\"method\":\"coop\"").contains("\"examples\":8");
        JsonNode meta = Json.MAPPER.readTree(adapter.resolve("adapter.json").toFile());
        assertThat(meta.path("classes").toString()).isEqualTo("[\"blue\",\"red\"]");
        assertThat(meta.path("model").path("sha256").asText()).hasSize(64);
        assertThat(Files.size(adapter.resolve("adapter.safetensors"))).isLessThan(4096); // ctx only, no CLIP weights

        Path report = tmp.resolve("coop.json");
        Result e = run("eval", "adapter", "--adapter", adapter.toString(), "--data", tmp.resolve("data").toString(), "--output", report.toString());
        assertThat(e.code()).as(e.err()).isZero();
        assertThat(Json.MAPPER.readTree(report.toFile()).get("top1").asDouble()).isBetween(0.0, 1.0);
        Result onNew = run("eval", "adapter", "--adapter", adapter.toString(), "--data", tmp.resolve("data").toString(), "--classes", "new");
        assertThat(onNew.code()).as(onNew.err()).isZero();
        Result c = run("classify", "--adapter", adapter.toString(), "--json", tmp.resolve("data/red/0.png").toString());
        assertThat(c.code()).as(c.err()).isZero();
        assertThat(c.out()).contains("\"probs\"").contains("\"red\"").contains("\"blue\"");

        for (String[] bad : new String[][] {{"coop", "--shots", "0"}, {"coop", "--shots", "2", "--classes", "old"},
                {"coop", "--shots", "2", "--class-position", "top"}, {"coop", "--shots", "2", "--epochs", "-1"},
                {"tip-adapter", "--shots", "2", "--augment-views", "0"}, {"cocoop", "--shots", "2", "--batch-size", "-1"}}) {
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("adapt"));
            args.addAll(java.util.List.of(bad));
            args.addAll(java.util.List.of("--model", run.toString(), "--data", tmp.resolve("data").toString(), "--out", tmp.resolve("x").toString()));
            Result r = run(args.toArray(String[]::new));
            assertThat(r.code()).as(String.join(" ", bad)).isEqualTo(1);
            assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
            assertThat(r.err()).containsAnyOf("--shots", "--classes", "--class-position", "--epochs", "--augment-views", "--batch-size");
        }
        Result tooFew = run("adapt", "coop", "--model", run.toString(), "--data", tmp.resolve("data").toString(), "--shots", "9",
                "--out", tmp.resolve("x").toString());
        assertThat(tooFew.code()).isEqualTo(1);
        assertThat(tooFew.err()).contains("has only 8 images").contains("--shots 9");
        Result again = run("adapt", "coop", "--model", run.toString(), "--data", tmp.resolve("data").toString(), "--shots", "1",
                "--out", adapter.toString());
        assertThat(again.err()).contains("already exists");
        Result other = run("train", "--data", tmp.resolve("data").toString(), "--arch", config.toString(), "--out",
                tmp.resolve("other").toString(), "--epochs", "1", "--batch-size", "8", "--warmup", "1", "--threads", "1", "--seed", "5");
        assertThat(other.code()).as(other.err()).isZero();
        Result wrong = run("classify", "--adapter", adapter.toString(), "--model", tmp.resolve("other").toString(),
                tmp.resolve("data/red/0.png").toString());
        assertThat(wrong.code()).isEqualTo(1);
        assertThat(wrong.err()).contains("use the model it was trained on");
        assertThat(tmp.resolve("x")).doesNotExist();

        for (String[] method : new String[][] {{"cocoop", "--epochs", "1", "--augment"}, {"coop", "--epochs", "2", "--no-augment"},
                {"tip-adapter", "--augment-views", "2"},
                {"tip-adapter", "--finetune", "--augment-views", "2", "--epochs", "2"}, {"linear-probe"}}) {
            Path out = tmp.resolve(String.join("-", method).replace("--", ""));
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("adapt"));
            args.addAll(java.util.List.of(method));
            args.addAll(java.util.List.of("--model", run.toString(), "--data", tmp.resolve("data").toString(), "--shots", "4",
                    "--out", out.toString(), "--threads", "1"));
            Result m = run(args.toArray(String[]::new));
            assertThat(m.code()).as(String.join(" ", method) + ": " + m.err()).isZero();
            Result ev = run("eval", "adapter", "--adapter", out.toString(), "--data", tmp.resolve("data").toString());
            assertThat(ev.code()).as(ev.err()).isZero();
            assertThat(ev.out()).contains("top-1");
        }
        assertThat(Files.readString(tmp.resolve("cocoop-epochs-1-augment").resolve("adapter.json"))).contains("random resized crop 0.08-1");
        assertThat(Files.readString(tmp.resolve("coop-epochs-2-no-augment").resolve("adapter.json"))).contains("no augmentation");
        Result unknownClass = run("eval", "adapter", "--adapter", tmp.resolve("linear-probe").toString(), "--data",
                tmp.resolve("data").toString(), "--classes", "new");
        assertThat(unknownClass.code()).isEqualTo(1);
        assertThat(unknownClass.err()).contains("knows only its own 2 classes");
    }
}
