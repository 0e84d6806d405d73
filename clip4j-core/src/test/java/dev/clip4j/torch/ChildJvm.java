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

    /**
     * Starts one process on this JVM's BLAS, which points JavaCPP's cached libopenblas.so.0 back where this machine's
     * processes expect it: after a test's children ran on the other BLAS, later tests that start processes at once
     * (launch's ranks) would otherwise all repoint it together, which crashed processes loading it (pitfall 15).
     */
    static void restoreThisMachinesBlas() throws Exception {
        String blas = Torch.blas().name().toLowerCase(java.util.Locale.ROOT);
        run(LoadProbe.class, Map.of("CLIP4J_BLAS", blas, "MKL_CBWR", "AUTO,STRICT"));
    }

    static String run(Class<?> main, Map<String, String> env, String... unset) throws Exception {
        return finish(start(main, env, unset));
    }

    /** Starts {@code main} as {@link #run} does, without waiting: several can run at once ({@link #finish} each). */
    static Process start(Class<?> main, Map<String, String> env, String... unset) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("java.class.path");
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx512m", "-cp", classPath, main.getName())
                .redirectErrorStream(true);
        for (String name : unset) pb.environment().remove(name);
        pb.environment().putAll(env);
        return pb.start();
    }

    /** Waits up to 240 s for {@code p}, asserts it ended with status 0, and returns its output. */
    static String finish(Process p) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(240, TimeUnit.SECONDS)).as(out).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }
}
