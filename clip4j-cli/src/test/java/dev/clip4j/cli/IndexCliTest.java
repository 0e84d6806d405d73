package dev.clip4j.cli;

import dev.clip4j.index.IndexFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code index build|update|merge} and {@code search} from the command line, and their bad options as one-line errors. */
class IndexCliTest {
    @TempDir
    Path tmp;

    @Test
    void buildSearchUpdateMerge() throws Exception {
        String model = IndexFixture.get().model().toString();
        Path photos = IndexFixture.colourFolders(tmp.resolve("photos"), 2, 51), more = IndexFixture.colourFolders(tmp.resolve("more"), 1, 52);
        Files.writeString(photos.resolve("red/broken.png"), "not a png");
        CliTest.Result b = CliTest.run("index", "build", "--model", model, "--images", photos.toString(), "--out", tmp.resolve("idx").toString());
        assertThat(b.code()).as(b.err()).isZero();
        assertThat(b.out()).contains("6 images (6 embedded").contains("1 skipped").contains("broken.png");
        CliTest.Result s = CliTest.run("search", "--index", tmp.resolve("idx").toString(), "--text", "green", "--template", "a photo of a {}.",
                "--k", "2", "--json");
        assertThat(s.code()).as(s.err()).isZero();
        assertThat(s.out().lines().toList()).hasSize(2);
        assertThat(s.out().lines().findFirst().orElseThrow()).contains("\"rank\":1").contains("/green/");
        assertThat(CliTest.run("index", "update", tmp.resolve("idx").toString()).out()).contains("6 unchanged");
        CliTest.run("index", "build", "--model", model, "--images", more.toString(), "--out", tmp.resolve("idx2").toString());
        CliTest.Result m = CliTest.run("index", "merge", tmp.resolve("idx").toString(), tmp.resolve("idx2").toString(), "--out", tmp.resolve("all").toString());
        assertThat(m.out()).contains("9 images");
    }

    /**
     * A query runs at its index's precision, and under {@code --backend auto} an int8 index's on ONNX Runtime as int8
     * runs everywhere else, while one query on a float32 index stays on libtorch.
     */
    @Test
    void aSearchRunsOnTheBackendItsIndexsPrecisionCallsFor() throws Exception {
        String model = IndexFixture.get().model().toString();
        Path photos = IndexFixture.colourFolders(tmp.resolve("photos"), 1, 55);
        for (String precision : new String[] {"int8", "fp32"}) {
            Path idx = tmp.resolve("idx-" + precision);
            CliTest.Result b = CliTest.run("index", "build", "--model", model, "--images", photos.toString(), "--out", idx.toString(),
                    "--precision", precision);
            assertThat(b.code()).as(b.err()).isZero();
            for (String[] query : new String[][] {{"--text", "red"}, {"--image", photos.resolve("red/0.png").toString()}}) {
                StringBuilder notes = new StringBuilder();
                CliTest.Result s = CliTest.runNoted(notes, "search", "--index", idx.toString(), query[0], query[1], "--k", "1");
                assertThat(s.code()).as(s.err()).isZero();
                if (precision.equals("int8")) assertThat(notes.toString()).as(query[0]).doesNotContain("--backend auto: torch");
                else assertThat(notes.toString()).as(query[0]).contains("--backend auto: torch (");
            }
        }
    }

    /** The launcher's JVMs resolve jdk.incubator.vector; Lucene's warning that Java 17 is too old for its own use of it stays out. */
    @Test
    void withTheVectorModuleLuceneStaysQuiet() throws Exception {
        String model = IndexFixture.get().model().toString();
        Path photos = IndexFixture.colourFolders(tmp.resolve("photos"), 1, 54);
        Process p = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules=jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "index", "build", "--model", model, "--images", photos.toString(), "--out", tmp.resolve("idx").toString(), "--threads", "1")
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
        assertThat(output).contains("Using incubator modules").doesNotContain("lucene").doesNotContain("too old");
    }

    @Test
    void badOptionsAreOneLineErrorsNamingThem() throws Exception {
        String model = IndexFixture.get().model().toString();
        Path photos = IndexFixture.colourFolders(tmp.resolve("photos"), 1, 53);
        CliTest.run("index", "build", "--model", model, "--images", photos.toString(), "--out", tmp.resolve("idx").toString());
        String idx = tmp.resolve("idx").toString();
        String[][] cases = {
                {"--k", "0"}, {"--k", "1001"}, {"--candidates", "0"}, {"--min-score", "2"}, {"--dedup", "0"}, {"--dedup", "1.5"},
        };
        String[] flags = {"--k", "--k", "--candidates", "--min-score", "--dedup", "--dedup"};
        for (int i = 0; i < cases.length; i++) {
            CliTest.Result r = CliTest.run("search", "--index", idx, "--text", "red", cases[i][0], cases[i][1]);
            assertThat(r.code()).isNotZero();
            assertThat(r.err().lines().toList()).hasSize(1);
            assertThat(r.err()).contains(flags[i]);
        }
        assertThat(CliTest.run("search", "--index", idx, "--image", photos.resolve("red/0.png").toString(), "--template", "a {}").err())
                .contains("--template applies to --text only");
        assertThat(CliTest.run("search", "--index", photos.toString(), "--text", "red").err()).contains("not a clip4j index");
        assertThat(CliTest.run("index", "build", "--model", model, "--images", tmp.resolve("nope").toString(), "--out", tmp.resolve("x").toString()).err())
                .contains("no such folder or captions file");
        assertThat(CliTest.run("index", "build", "--model", model, "--images", photos.toString(), "--out", idx, "--batch-size", "0").err())
                .contains("--batch-size");
        assertThat(CliTest.run("serve", "--index", idx, "--port", "70000").err()).contains("--port");
        assertThat(CliTest.run("serve", "--index", idx, "--onnx-threads", "fast").err()).contains("--onnx-threads must be spin, sleep or slices");
        // the OpenSearch store is on the CLI's class path: an unknown scheme lists it, an unreachable server is named
        assertThat(CliTest.run("index", "build", "--model", model, "--images", photos.toString(), "--out", tmp.resolve("s1").toString(),
                "--store", "elastic:http://127.0.0.1:9200/x").err()).contains("unknown").contains("opensearch:");
        assertThat(CliTest.run("index", "build", "--model", model, "--images", photos.toString(), "--out", tmp.resolve("s2").toString(),
                "--store", "opensearch:http://127.0.0.1:1/photos").err()).contains("cannot reach OpenSearch at").doesNotContain("\n\tat ");
        assertThat(tmp.resolve("s2")).doesNotExist();
        assertThat(CliTest.run("index", "build", "--model", model, "--images", photos.toString(), "--out", tmp.resolve("s3").toString(),
                "--store", " ").err()).contains("an empty --store location");
        assertThat(CliTest.run("index", "merge", idx, idx, "--out", idx).err()).contains("already exists");
    }
}
