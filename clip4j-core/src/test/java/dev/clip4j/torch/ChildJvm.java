package dev.clip4j.torch;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A child JVM on the test class path, for what a process decides from its environment when libtorch loads (threads,
 * the BLAS): runs {@code main} with {@code unset} removed from the inherited environment and {@code env} added, asserts
 * that it ends within 240 s with status 0, and returns its output (standard output and error together).
 */
final class ChildJvm {
    private ChildJvm() {}

    static String run(Class<?> main, Map<String, String> env, String... unset) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), main.getName()).redirectErrorStream(true);
        for (String name : unset) pb.environment().remove(name);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(240, TimeUnit.SECONDS)).as(out).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }
}
