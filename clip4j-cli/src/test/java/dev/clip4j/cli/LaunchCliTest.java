package dev.clip4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * {@code ./clip4j launch} with real child JVMs over Gloo on 127.0.0.1: two ranks train as one process does, a run
 * stopped by a signal resumes to the same weights bit for bit, and a killed rank ends the launcher within seconds,
 * naming the rank, with no rank left running.
 */
class LaunchCliTest {
    @TempDir
    Path tmp;
    private Path config;

    @BeforeEach
    void data() throws Exception {
        config = CliTest.redBlueDataAndConfig(tmp); // 16 images in tmp/data, a tiny ViT
    }

    private List<String> train(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", "--data", tmp.resolve("data").toString(), "--arch", config.toString(),
                "--out", out.toString(), "--batch-size", "8", "--warmup", "2", "--lr", "1e-3"));
        args.addAll(List.of(extra));
        return args;
    }

    /** A launcher process, its standard error collected as it comes. */
    private static final class Launch {
        final Process process;
        final StringBuffer err = new StringBuffer();
        final StringBuffer out = new StringBuffer();

        Launch(List<String> command, Path dir) throws Exception {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx1g", "-cp", System.getProperty("java.class.path"), Main.class.getName(), "launch", "--nproc", "2",
                    "--threads-per-proc", "1", "--"));
            cmd.addAll(command);
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
            pb.environment().put("OPENBLAS_NUM_THREADS", "1");
            process = pb.start();
            collect(process.getErrorStream(), err);
            collect(process.getInputStream(), out);
        }

        private static void collect(java.io.InputStream in, StringBuffer into) {
            Thread t = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) into.append(line).append('\n');
                } catch (java.io.IOException e) {
                    // ended
                }
            });
            t.setDaemon(true);
            t.start();
        }

        int waitFor(long seconds) throws Exception {
            assertThat(process.waitFor(seconds, TimeUnit.SECONDS)).as("launcher still running; stderr:\n" + err).isTrue();
            Thread.sleep(200); // the collectors' last lines
            return process.exitValue();
        }

        List<Long> rankPids() {
            List<Long> pids = new ArrayList<>();
            Matcher m = Pattern.compile("rank (\\d+) of 2 is pid (\\d+)").matcher(err);
            while (m.find()) pids.add(Long.parseLong(m.group(2)));
            return pids;
        }
    }

    private static List<Double> losses(Path run) throws Exception {
        return dev.clip4j.train.TinyData.losses(run);
    }

    private static void waitForSteps(Path run, int steps, Launch l) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            Path m = run.resolve("metrics.jsonl");
            if (Files.exists(m) && Files.readAllLines(m).size() >= steps) return;
            assertThat(l.process.isAlive()).as("launcher ended early:\n" + l.err).isTrue();
            Thread.sleep(100);
        }
        throw new AssertionError("no " + steps + " steps in 120 s:\n" + l.err);
    }

    @Test
    void twoRanksTrainAsOneProcessAndAStoppedRunResumesBitForBit() throws Exception {
        Path one = tmp.resolve("one");
        CliTest.Result single = CliTest.run(train(one, "--epochs", "3", "--threads", "1").toArray(String[]::new));
        assertThat(single.code()).as(single.err()).isZero();

        Path two = tmp.resolve("two");
        Launch l = new Launch(train(two, "--epochs", "3"), tmp);
        assertThat(l.waitFor(180)).as(l.err.toString()).isZero();
        // standard output is rank 0's result line alone (Gloo's connection lines went to standard error)
        assertThat(l.out.toString().lines().toList()).hasSize(1);
        assertThat(new ObjectMapper().readTree(l.out.toString()).get("steps").asInt()).isEqualTo(6);
        List<Double> a = losses(one), b = losses(two);
        assertThat(b).hasSize(6).hasSameSizeAs(a);
        // the first step to 1e-6; later ones to 1e-5 (float32 regrouping moves the weights: DistributedTrainingTest)
        for (int i = 0; i < a.size(); i++) assertThat(b.get(i)).isCloseTo(a.get(i), within((i == 0 ? 1e-6 : 1e-5) * a.get(i)));

        // 60 steps straight, or stopped by SIGTERM partway and resumed: the same weights, bit for bit
        Path straight = tmp.resolve("straight");
        assertThat(new Launch(train(straight, "--epochs", "30", "--checkpoint-every", "4"), tmp).waitFor(300)).isZero();
        Path stopped = tmp.resolve("stopped");
        Launch s = new Launch(train(stopped, "--epochs", "30", "--checkpoint-every", "4"), tmp);
        waitForSteps(stopped, 10, s);
        // SIGTERM to the launcher (through its handle: Process.destroy() would also close our end of its pipes): passed
        // on, the ranks stop together and checkpoint
        s.process.toHandle().destroy();
        int code = s.waitFor(120);
        assertThat(code).as(s.err.toString()).isEqualTo(143);
        assertThat(s.err.toString()).contains("stopped by SIGTERM");
        long savedAt = losses(stopped).size();
        assertThat(savedAt).isBetween(10L, 59L);
        Launch r = new Launch(List.of("train", "--out", stopped.toString(), "--resume"), tmp);
        assertThat(r.waitFor(300)).as(r.err.toString()).isZero();
        Map<String, Tensor> x = ClipCheckpoint.read(straight.resolve("checkpoint")).weights();
        Map<String, Tensor> y = ClipCheckpoint.read(stopped.resolve("checkpoint")).weights();
        assertThat(y.keySet()).isEqualTo(x.keySet());
        x.forEach((k, v) -> assertThat(Tensors.toFloats(y.get(k))).as(k).isEqualTo(Tensors.toFloats(v)));
    }

    @Test
    void aKilledRankStopsTheLauncherAndLeavesNoRankRunning() throws Exception {
        Path run = tmp.resolve("run");
        Launch l = new Launch(train(run, "--epochs", "100000"), tmp);
        waitForSteps(run, 3, l);
        List<Long> pids = l.rankPids();
        assertThat(pids).hasSize(2);
        long killedAt = System.nanoTime();
        ProcessHandle.of(pids.get(1)).orElseThrow().destroyForcibly(); // SIGKILL: no chance to say goodbye
        int code = l.waitFor(60);
        double seconds = (System.nanoTime() - killedAt) / 1e9;
        assertThat(code).isNotZero();
        assertThat(l.err.toString()).contains("rank 1 was killed (SIGKILL").contains("stopping the other ranks");
        assertThat(seconds).as("seconds from the kill to the launcher's exit").isLessThan(30);
        for (long pid : pids) assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("pid " + pid).isFalse();
    }

    @Test
    void badLaunchesAreRefusedInOneLine() {
        CliTest.Result r = CliTest.run("launch", "--nproc", "0", "--", "train");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("--nproc must be 1..64");
        r = CliTest.run("launch", "--nproc", "2", "--", "embed", "--text", "x");
        assertThat(r.err()).contains("launch runs train");
        r = CliTest.run("launch", "--nproc", "2", "--nnodes", "2", "--", "train");
        assertThat(r.err()).contains("--master-port is required");
    }
}
