package dev.clip4j.train;

import dev.clip4j.InputException;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.data.DatasetException;
import dev.clip4j.hostile.ChildJvm;
import dev.clip4j.io.RunLock;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Runs survive crashes at any point of a checkpoint swap, refuse a second writer, and resume as a user expects. */
class RunSafetyTest {
    @TempDir
    static Path shared;
    static Path data, config;
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    @TempDir
    Path tmp;

    @BeforeAll
    static void data() throws IOException {
        data = TinyData.colourFolders(shared.resolve("data"), 8, 1);
        config = TinyData.tinyConfig(shared);
    }

    /** 4 epochs of 4 steps, a checkpoint every 3 steps. */
    static TrainOptions recipe(Path data, Path config) {
        return TinyData.options(data, config, 4, 6, 0, 3);
    }

    /**
     * {@code kill -9} (a real halt, no finally blocks) after the current checkpoint moved aside and before the new one
     * moved in, twice in a row (the second time in the resumed run's first save), then a third run finishes: it ends
     * bit-identical to an uninterrupted run, and at every point in between a complete checkpoint was visible.
     */
    @Test
    void twoCrashesAtTheSwapStayResumable() throws Exception {
        Path straight = tmp.resolve("straight"), crashed = tmp.resolve("crashed");
        new Trainer(recipe(data, config), straight, false, QUIET).run();

        ChildJvm.Result first = ChildJvm.run(List.of("-Dclip4j.test.crashAt=moved-current:2"), TrainProbe.class,
                "train", crashed.toString(), data.toString(), config.toString());
        assertThat(first.exit()).as(first.output()).isEqualTo(137);
        assertThat(Files.exists(crashed.resolve("checkpoint"))).as("moved aside").isFalse();
        assertThat(RunCheckpoint.find(crashed)).as("a complete checkpoint after crash 1").isNotNull();

        ChildJvm.Result second = ChildJvm.run(List.of("-Dclip4j.test.crashAt=moved-current:1"), TrainProbe.class,
                "train", crashed.toString(), data.toString(), config.toString());
        assertThat(second.exit()).as(second.output()).isEqualTo(137);
        assertThat(RunCheckpoint.find(crashed)).as("a complete checkpoint after crash 2").isNotNull();

        ChildJvm.Result third = ChildJvm.run(List.of(), TrainProbe.class, "train", crashed.toString(), data.toString(), config.toString());
        assertThat(third.exit()).as(third.output()).isZero();
        assertThat(third.output()).contains("finished at step 16");
        try (var list = Files.list(crashed)) {
            assertThat(list.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".checkpoint") || n.endsWith(".old")))
                    .as("leftovers removed").isEmpty();
        }
        assertSameWeights(straight, crashed);
    }

    /** Bit-identical weights (AssertJ's own array diff is quadratic on large arrays). */
    static void assertSameWeights(Path runA, Path runB) {
        Map<String, Tensor> a = ClipCheckpoint.read(runA).weights(), b = ClipCheckpoint.read(runB).weights();
        assertThat(b.keySet()).isEqualTo(a.keySet());
        a.forEach((k, v) -> dev.clip4j.Parity.assertBitIdentical(k, Tensors.toFloats(b.get(k)), Tensors.toFloats(v)));
    }

    /** An uninterrupted run in a child JVM equals one in this JVM (the baseline for the crash tests). */
    @Test
    void childJvmRunEqualsInProcessRun() throws Exception {
        Path straight = tmp.resolve("straight"), child = tmp.resolve("child");
        new Trainer(recipe(data, config), straight, false, QUIET).run();
        ChildJvm.Result r = ChildJvm.run(List.of(), TrainProbe.class, "train", child.toString(), data.toString(), config.toString());
        assertThat(r.exit()).as(r.output()).isZero();
        assertSameWeights(straight, child);
    }

    /** A crash right after the new checkpoint is written (before any rename) and right after it moved in. */
    @Test
    void crashesBeforeAndAfterTheSwapStayResumable() throws Exception {
        for (String point : new String[] {"written:2", "moved-new:2"}) {
            Path run = tmp.resolve(point.replace(':', '-'));
            ChildJvm.Result r = ChildJvm.run(List.of("-Dclip4j.test.crashAt=" + point), TrainProbe.class,
                    "train", run.toString(), data.toString(), config.toString());
            assertThat(r.exit()).as(r.output()).isEqualTo(137);
            Path found = RunCheckpoint.find(run);
            assertThat(found).as(point).isNotNull();
            assertThat(RunCheckpoint.read(found).state().step()).as(point).isEqualTo(6);
        }
    }

    @Test
    void secondWriterInThisProcessIsRefused() throws Exception {
        Path run = tmp.resolve("run");
        try (RunLock held = RunLock.acquire(run)) {
            assertThatThrownBy(() -> new Trainer(recipe(data, config), run, false, QUIET)).isInstanceOf(InputException.class)
                    .hasMessageContaining("in use by this process");
        }
        new Trainer(recipe(data, config), run, false, QUIET).runUntil(2); // free again
    }

    @Test
    void secondWriterIsToldTheHolderPidAndADeadHoldersLockIsTakenOver() throws Exception {
        Path run = Files.createDirectories(tmp.resolve("run"));
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), TrainProbe.class.getName(), "hold", run.toString());
        Process holder = pb.start();
        try {
            String line = new String(holder.getInputStream().readNBytes(8), StandardCharsets.UTF_8);
            assertThat(line).startsWith("holding");
            assertThatThrownBy(() -> new Trainer(recipe(data, config), run, false, QUIET)).isInstanceOf(InputException.class)
                    .hasMessageContaining("in use by another clip4j process (PID " + holder.pid() + ")");
        } finally {
            holder.destroyForcibly();
            holder.waitFor(30, TimeUnit.SECONDS);
        }
        Trainer.Result r = new Trainer(recipe(data, config), run, false, QUIET).runUntil(1);
        assertThat(r.state().step()).isEqualTo(1);
    }

    @Test
    void leftoverTemporariesAreRemovedOnTheNextStart() throws Exception {
        Path run = tmp.resolve("run");
        new Trainer(recipe(data, config), run, false, QUIET).runUntil(3);
        Path junk = Files.createDirectories(run.resolve(".checkpoint.12345"));
        Files.write(junk.resolve("model.safetensors"), new byte[1000]);
        Trainer.Result r = Trainer.resume(run, null, QUIET).runUntil(4);
        assertThat(r.state().step()).isEqualTo(4);
        assertThat(junk).doesNotExist();
    }

    @Test
    void aNewRunThatFailsToStartLeavesNoDirectory() {
        Path run = tmp.resolve("never");
        TrainOptions o = recipe(data, config).toBuilder().data(tmp.resolve("no-such-dataset").toString()).build();
        assertThatThrownBy(() -> new Trainer(o, run, false, QUIET)).isInstanceOf(DatasetException.class)
                .hasMessageContaining("no-such-dataset");
        assertThat(run).doesNotExist();
    }

    @Test
    void restartBeforeTheFirstCheckpointDoesNotDuplicateMetrics() throws Exception {
        Path run = Files.createDirectories(tmp.resolve("run"));
        Files.writeString(run.resolve("metrics.jsonl"), "{\"step\":1,\"loss\":9}\n{\"step\":2,\"loss\":9}\n");
        new Trainer(recipe(data, config), run, false, QUIET).runUntil(2);
        List<String> lines = Files.readAllLines(run.resolve("metrics.jsonl"));
        assertThat(lines).hasSize(2).noneMatch(l -> l.contains("\"loss\":9"));
    }

    @Test
    void resumingAFinishedRunChangesNothing() throws Exception {
        Path run = tmp.resolve("run");
        new Trainer(recipe(data, config), run, false, QUIET).run();
        FileTime before = Files.getLastModifiedTime(run.resolve("checkpoint/trainer.json"));
        String metrics = Files.readString(run.resolve("metrics.jsonl"));
        Trainer.Result r = Trainer.resume(run, null, QUIET).run();
        assertThat(r.alreadyFinished()).isTrue();
        assertThat(r.stepsThisSession()).isZero();
        assertThat(Files.getLastModifiedTime(run.resolve("checkpoint/trainer.json"))).isEqualTo(before);
        assertThat(Files.readString(run.resolve("metrics.jsonl"))).isEqualTo(metrics);
    }

    @Test
    void resumeWithMoreEpochsExtendsTheRun() throws Exception {
        Path run = tmp.resolve("run");
        new Trainer(recipe(data, config), run, false, QUIET).run();
        Trainer.Result r = Trainer.resume(run, o -> o.toBuilder().epochs(6).build(), QUIET).run();
        assertThat(r.alreadyFinished()).isFalse();
        assertThat(r.state().step()).isEqualTo(24);
        assertThat(r.stepsThisSession()).isEqualTo(8);
    }

    @Test
    void stopRequestEndsBetweenStepsWithACheckpoint() throws Exception {
        Path run = tmp.resolve("run");
        new Trainer(recipe(data, config), run, false, QUIET).runUntil(2);
        dev.clip4j.io.StopSignal.request("SIGTERM");
        try {
            Trainer.Result r = Trainer.resume(run, null, QUIET).run();
            assertThat(r.stoppedBy()).isEqualTo("SIGTERM");
            assertThat(r.state().step()).isEqualTo(2);
        } finally {
            dev.clip4j.io.StopSignal.clear();
        }
        Trainer.Result r = Trainer.resume(run, null, QUIET).run();
        assertThat(r.state().step()).isEqualTo(16);
    }

    @Test
    void invalidNumbersAreRefusedByName() {
        TrainOptions base = recipe(data, config);
        assertThatThrownBy(() -> base.toBuilder().lr(Double.NaN).build().validate()).hasMessageContaining("lr must be a finite number");
        assertThatThrownBy(() -> base.toBuilder().lr(Double.POSITIVE_INFINITY).build().validate()).hasMessageContaining("lr");
        assertThatThrownBy(() -> base.toBuilder().microBatch(-1).build().validate()).hasMessageContaining("microBatch");
        assertThatThrownBy(() -> base.toBuilder().weightDecay(-0.1).build().validate()).hasMessageContaining("weightDecay");
        assertThatThrownBy(() -> base.toBuilder().clipNorm(-1).build().validate()).hasMessageContaining("clipNorm");
        assertThatThrownBy(() -> base.toBuilder().warmupSteps(-1).build().validate()).hasMessageContaining("warmup");
        assertThatThrownBy(() -> TrainOptions.parseDuration("-5m")).hasMessageContaining("must be positive");
    }
}
