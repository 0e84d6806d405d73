package dev.clip4j.torch;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pitfall 6: with another libtorch on the library search path (Debian's python3-torch, or here a decoy that is
 * not even a valid library), a first load into an empty native cache must still use the bundled natives.
 */
class SystemLibtorchTest {
    @Test
    void loadsBundledLibtorchDespiteAnotherOnTheSearchPath(@TempDir Path tmp) throws Exception {
        Path decoys = Files.createDirectories(tmp.resolve("system-lib"));
        for (String lib : new String[] {"libtorch_cpu.so", "libtorch.so", "libc10.so"}) {
            Files.writeString(decoys.resolve(lib), "not a library");
        }
        List<String> searchPath = new ArrayList<>(List.of(decoys.toString()));
        for (String debian : new String[] {"/usr/lib/x86_64-linux-gnu", "/usr/lib/python3/dist-packages/torch/lib"}) {
            if (Files.exists(Path.of(debian, "libtorch_cpu.so"))) searchPath.add(debian); // the real trap, where installed
        }
        Path cache = tmp.resolve("javacpp-cache");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dorg.bytedeco.javacpp.cachedir=" + cache,
                "-Djava.library.path=" + String.join(":", searchPath) + ":" + System.getProperty("java.library.path"), "-cp", System.getProperty("java.class.path"),
                LoadProbe.class.getName());
        pb.environment().put("LD_LIBRARY_PATH", String.join(":", searchPath));
        pb.environment().put("OPENBLAS_NUM_THREADS", "1");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("result 7.0 10.0 15.0 22.0");
        assertThat(out).as("libtorch must come from the fresh JavaCPP cache").contains("libtorch " + cache.toRealPath());
    }
}
