package dev.clip4j.index;

import dev.clip4j.Precision;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code kill -9} in the middle of a build: the index keeps its last commit and a re-run embeds only the rest. */
class IndexKillTest {
    @TempDir
    Path tmp;

    @Test
    void aBuildKilledWithSigkillContinuesWithoutEmbeddingAgain() throws Exception {
        Path images = IndexFixture.colourFolders(tmp.resolve("photos"), 16, 21); // 48 images, 12 batches of 4
        Path idx = tmp.resolve("idx");
        Path model = IndexFixture.get().model();
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), IndexBuildChild.class.getName(),
                model.toString(), images.toString(), idx.toString()).redirectErrorStream(true);
        pb.environment().put("OPENBLAS_NUM_THREADS", "1");
        Process child = pb.start();
        StringBuilder seen = new StringBuilder();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                seen.append(line).append('\n');
                if (line.startsWith("progress ") && Integer.parseInt(line.substring(9).trim()) >= 16) break;
            }
            child.destroyForcibly(); // SIGKILL: no shutdown hook, no rollback, possibly in the middle of a commit
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(seen.toString()).as("the child was killed before it finished").doesNotContain("finished");
        assertThat(child.exitValue()).isEqualTo(137);

        long committed;
        try (ImageIndex partial = ImageIndex.open(idx)) {
            committed = partial.size();
        }
        assertThat(committed).as("batches committed before the kill").isBetween(16L, 44L).matches(n -> n % 4 == 0, "whole batches");
        try (ImageIndex index = ImageIndex.build(model, IndexSource.of(images), idx, Precision.FP32, 4, IndexProgress.NONE)) {
            assertThat(index.report().unchanged()).isEqualTo((int) committed);
            assertThat(index.report().embedded()).as("only what was not committed is embedded").isEqualTo(48 - (int) committed);
            assertThat(index.size()).isEqualTo(48);
            assertThat(index.search("red", SearchOptions.top(1)).get(0).image().path()).contains("/red/");
        }
    }
}
