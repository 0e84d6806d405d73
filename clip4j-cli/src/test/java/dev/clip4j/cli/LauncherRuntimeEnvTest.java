package dev.clip4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The launcher's choice of collector and glibc malloc settings per command ({@code runtime-env.sh}, sourced by
 * {@code ./clip4j}), run in bash with a clean environment and a stand-in for the kernel's transparent-huge-page file.
 */
class LauncherRuntimeEnvTest {
    private static final Path SCRIPT = Path.of("src/main/sh/runtime-env.sh").toAbsolutePath();
    private static final String PARALLEL = "-XX:+UseParallelGC -Xms32m -XX:GCTimeRatio=19 -XX:MaxHeapFreeRatio=20 -XX:MinHeapFreeRatio=5";
    private static final String G1 = "-XX:GCTimeRatio=1 -XX:MaxHeapFreeRatio=20 -XX:MinHeapFreeRatio=5";

    @TempDir
    Path tmp;

    /** What the function leaves: the collector flags and the four variables (empty when unset). */
    private record Env(String gc, String mmapThreshold, String tunables, String arenas, String trimThreshold) {}

    /** An AVX-512 CPU without AMX, as /proc/cpuinfo shows its flags. */
    private static final String NO_AMX = "flags\t\t: fpu sse2 avx2 fma avx512f avx512_bf16 avx512_vnni\n";
    private static final String AMX = "flags\t\t: fpu sse2 avx2 fma avx512f avx512_bf16 amx_bf16 amx_tile amx_int8\n";

    private Env run(String thp, Map<String, String> userEnv, String... command) throws Exception {
        return run(thp, NO_AMX, userEnv, command);
    }

    private Env run(String thp, String cpuinfo, Map<String, String> userEnv, String... command) throws Exception {
        Path thpFile = tmp.resolve("enabled"), cpuFile = tmp.resolve("cpuinfo");
        if (thp == null) Files.deleteIfExists(thpFile);
        else Files.writeString(thpFile, thp + "\n");
        Files.writeString(cpuFile, cpuinfo);
        List<String> cmd = new ArrayList<>(List.of("bash", "-c",
                "set -euo pipefail; source \"$0\"; clip4j_runtime_env \"$@\"; "
                        + "printf '%s|%s|%s|%s|%s' \"$gc\" \"${MALLOC_MMAP_THRESHOLD_:-}\" \"${GLIBC_TUNABLES:-}\" "
                        + "\"${MALLOC_ARENA_MAX:-}\" \"${MALLOC_TRIM_THRESHOLD_:-}\"",
                SCRIPT.toString(), thpFile.toString(), cpuFile.toString()));
        cmd.addAll(List.of(command));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("PATH", System.getenv("PATH"));
        pb.environment().putAll(userEnv);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        String[] f = out.split("\\|", -1);
        assertThat(f).as(out).hasSize(5);
        return new Env(f[0], f[1], f[2], f[3], f[4]);
    }

    private Env run(String thp, String... command) throws Exception {
        return run(thp, Map.of(), command);
    }

    @Test
    void photoFolderCommandsGetTheParallelCollectorAndMappedLargeBlocksOnHugePages() throws Exception {
        for (String thp : List.of("always [madvise] never", "[always] madvise never")) {
            for (String[] command : List.of(new String[] {"embed", "--images", "dir"}, new String[] {"embed", "--text", "a dog"},
                    new String[] {"index", "build", "--images", "dir"}, new String[] {"index", "update"})) {
                Env e = run(thp, command);
                assertThat(e).as(String.join(" ", command) + " with " + thp)
                        .isEqualTo(new Env(PARALLEL, "8388608", "glibc.malloc.hugetlb=1", "1", "1073741824"));
            }
        }
    }

    /**
     * bf16 runs on libtorch, whose activations come and go every forward pass: mapped apart they are fresh pages each
     * time, so a bf16 photo folder keeps the arena, where bf16 is asked for or where auto picks it (an AMX CPU).
     */
    @Test
    void aBf16PhotoFolderKeepsTheArena() throws Exception {
        String thp = "always [madvise] never";
        Env arena = new Env(PARALLEL, "33554432", "", "1", "1073741824");
        Env mapped = new Env(PARALLEL, "8388608", "glibc.malloc.hugetlb=1", "1", "1073741824");
        assertThat(run(thp, NO_AMX, Map.of(), "embed", "--images", "d", "--precision", "bf16")).isEqualTo(arena);
        assertThat(run(thp, NO_AMX, Map.of(), "index", "build", "--precision=bf16", "--images", "d")).isEqualTo(arena);
        assertThat(run(thp, AMX, Map.of(), "embed", "--images", "d")).as("auto on AMX is bf16").isEqualTo(arena);
        assertThat(run(thp, AMX, Map.of(), "index", "update", "--precision", "auto")).isEqualTo(arena);
        assertThat(run(thp, NO_AMX, Map.of(), "embed", "--images", "d")).as("auto without AMX").isEqualTo(mapped);
        for (String p : new String[] {"fp32", "int8"}) {
            assertThat(run(thp, AMX, Map.of(), "embed", "--images", "d", "--precision", p)).as(p).isEqualTo(mapped);
            assertThat(run(thp, AMX, Map.of(), "index", "build", "--precision=" + p)).as(p).isEqualTo(mapped);
        }
        // the option's value, not a path that happens to say bf16
        assertThat(run(thp, NO_AMX, Map.of(), "embed", "--images", "bf16", "--precision", "int8")).isEqualTo(mapped);
    }

    @Test
    void withoutHugePagesAPhotoFolderKeepsTheArena() throws Exception {
        // 4 KB pages faulted in for every mapped photo cost 40 % of the time: the folder keeps the training settings
        for (String thp : new String[] {"always madvise [never]", null}) {
            assertThat(run(thp, "embed", "--images", "dir")).isEqualTo(new Env(PARALLEL, "33554432", "", "1", "1073741824"));
        }
    }

    @Test
    void otherCommandsKeepTheArenaAndTheirCollector() throws Exception {
        String thp = "always [madvise] never";
        for (String[] command : List.of(new String[] {"search", "--index", "x"}, new String[] {"serve"}, new String[] {"classify"},
                new String[] {"index", "merge"}, new String[] {"spark-embed"})) {
            assertThat(run(thp, command)).as(String.join(" ", command)).isEqualTo(new Env(G1, "33554432", "", "1", "1073741824"));
        }
        for (String[] command : List.of(new String[] {"train", "--data", "d"}, new String[] {"quickstart"}, new String[0])) {
            assertThat(run(thp, command)).as(String.join(" ", command)).isEqualTo(new Env("", "33554432", "", "1", "1073741824"));
        }
    }

    @Test
    void valuesTheUserSetWin() throws Exception {
        String thp = "always [madvise] never";
        // a threshold of the user's own: used as it is, and no huge pages asked for on its behalf
        assertThat(run(thp, Map.of("MALLOC_MMAP_THRESHOLD_", "65536", "MALLOC_ARENA_MAX", "4", "MALLOC_TRIM_THRESHOLD_", "0"), "embed"))
                .isEqualTo(new Env(PARALLEL, "65536", "", "4", "0"));
        // other tunables are kept, the huge-page one added after them; a hugetlb value of the user's own stays alone
        assertThat(run(thp, Map.of("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0"), "index", "build").tunables())
                .isEqualTo("glibc.malloc.tcache_count=0:glibc.malloc.hugetlb=1");
        assertThat(run(thp, Map.of("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0:glibc.malloc.hugetlb=0"), "embed").tunables())
                .isEqualTo("glibc.malloc.tcache_count=0:glibc.malloc.hugetlb=0");
        assertThat(run(thp, Map.of("GLIBC_TUNABLES", "glibc.malloc.hugetlb=0"), "embed").tunables()).isEqualTo("glibc.malloc.hugetlb=0");
    }

    /** options.sh: the launcher's reading of an option before the JVM starts (threads, Spark's class path, precision). */
    @Test
    void optionValuesAreReadAsPicocliReadsThem() throws Exception {
        Path options = Path.of("src/main/sh/options.sh").toAbsolutePath();
        String[][] cases = {
            {"8", "threads", "embed", "--threads", "8"},
            {"3", "threads", "embed", "--threads=3"},
            {"5", "threads", "--threads", "2", "embed", "--threads=5"}, // the last one, as picocli keeps
            {"", "threads", "embed", "--images", "threads"},
            {"", "threads", "embed", "--threadsx=2", "--thread", "3"},
            {"p.parquet", "embeddings", "index", "build", "--embeddings=p.parquet"},
            {"a b", "embeddings", "index", "build", "--embeddings", "a b"},
            {"int8", "precision", "index", "build", "--precision", "int8"},
            {"", "precision"},
        };
        for (String[] c : cases) {
            List<String> cmd = new ArrayList<>(List.of("bash", "-c", "set -euo pipefail; source \"$0\"; clip4j_option \"$@\"",
                    options.toString()));
            cmd.addAll(List.of(c).subList(1, c.length));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(out).as(String.join(" ", c)).isEqualTo(c[0]);
        }
        String launcher = Files.readString(Path.of("../clip4j"));
        assertThat(launcher).contains("threads=$(clip4j_option threads \"$@\")")
                .contains("embeddings=$(clip4j_option embeddings \"$@\")");
    }

    @Test
    void theLauncherTakesItsSettingsFromThisScriptForTheCommandItRuns() throws Exception {
        String launcher = Files.readString(Path.of("../clip4j"));
        assertThat(launcher).contains("source \"$here/clip4j-cli/src/main/sh/runtime-env.sh\"")
                .contains("clip4j_runtime_env /sys/kernel/mm/transparent_hugepage/enabled /proc/cpuinfo \"$@\"")
                // the Vector API's resize pass (PilResize.VECTOR_PASS) for every command, before the user's options
                .contains("exec java $gc --add-modules=jdk.incubator.vector ${CLIP4J_JAVA_OPTS:-}")
                .doesNotContain("MALLOC_MMAP_THRESHOLD_="); // set in one place only
        int sourced = launcher.indexOf("clip4j_runtime_env /sys"), exec = launcher.indexOf("exec java $gc");
        assertThat(sourced).isLessThan(exec);
    }
}
