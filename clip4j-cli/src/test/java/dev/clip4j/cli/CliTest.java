package dev.clip4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
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
    }
}
