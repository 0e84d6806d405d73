package dev.clip4j.torch;

import dev.clip4j.Parity;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Which BLAS runs libtorch's float32 GEMMs ({@link Blas}): the choice from what the process asks for and has, and in
 * child JVMs that the chosen library is the one mapped, that MKL brings no second OpenMP pool, and that both compute
 * a float32 GEMM and its gradient to float32 accuracy.
 */
class BlasTest {
    /** Children here ran on the other BLAS too: JavaCPP's shared cache back as this machine uses it (pitfall 15). */
    @AfterAll
    static void restoreTheCachedBlas() throws Exception {
        ChildJvm.restoreThisMachinesBlas();
    }

    private static Blas choose(String requested, String vendor, boolean onClassPath) {
        return Blas.choose(new Blas.Facts(requested, vendor, onClassPath, "AUTO", null));
    }

    @Test
    void autoTakesMklOnIntelCpusWhereItIsOnTheClassPath() {
        assertThat(choose(null, "GenuineIntel", true)).isEqualTo(Blas.MKL);
        assertThat(choose(" Auto", "GenuineIntel", true)).isEqualTo(Blas.MKL);
        assertThat(choose(null, "AuthenticAMD", true)).isEqualTo(Blas.OPENBLAS);
        assertThat(choose(null, "GenuineIntel", false)).isEqualTo(Blas.OPENBLAS);
        assertThat(choose(null, "", true)).isEqualTo(Blas.OPENBLAS);
    }

    @Test
    void explicitChoicesAndTheirErrors() {
        assertThat(choose("openblas", "GenuineIntel", true)).isEqualTo(Blas.OPENBLAS);
        assertThat(choose(" MKL ", "AuthenticAMD", true)).isEqualTo(Blas.MKL);
        assertThatThrownBy(() -> choose("mkl", "GenuineIntel", false)).hasMessageContaining("linux-x86_64-redist");
        assertThatThrownBy(() -> Blas.choose(new Blas.Facts("mkl", "GenuineIntel", true, null, null)))
                .hasMessageContaining("MKL_CBWR");
        assertThat(Blas.choose(new Blas.Facts(null, "GenuineIntel", true, "", null))).isEqualTo(Blas.OPENBLAS);
        assertThatThrownBy(() -> choose("fast", "GenuineIntel", true)).hasMessageContaining("auto, mkl or openblas");
    }

    @Test
    void aUsersOwnPresetSwitchIsLeftAlone() {
        assertThat(Blas.choose(new Blas.Facts("openblas", "GenuineIntel", true, null, "mkl_rt"))).isEqualTo(Blas.MKL);
        assertThat(Blas.choose(new Blas.Facts("mkl", "GenuineIntel", true, "AUTO", "openblas")))
                .isEqualTo(Blas.OPENBLAS);
    }

    /** select() sets the switch where the user left none (or a blank one), never over the user's own. */
    @Test
    void selectingMklSetsThePresetsSwitchOnlyWhereTheUserLeftNone() {
        String before = System.getProperty("org.bytedeco.openblas.load");
        try {
            System.setProperty("org.bytedeco.openblas.load", " ");
            Blas.MKL.select();
            assertThat(System.getProperty("org.bytedeco.openblas.load")).isEqualTo("mkl_rt");
            System.setProperty("org.bytedeco.openblas.load", "mkl");
            Blas.MKL.select();
            assertThat(System.getProperty("org.bytedeco.openblas.load")).isEqualTo("mkl");
            System.clearProperty("org.bytedeco.openblas.load");
            Blas.OPENBLAS.select();
            assertThat(System.getProperty("org.bytedeco.openblas.load")).isNull();
        } finally {
            if (before == null) System.clearProperty("org.bytedeco.openblas.load");
            else System.setProperty("org.bytedeco.openblas.load", before);
        }
    }

    /** A process given an unknown BLAS stops at its first use of libtorch with an error naming the choices. */
    @Test
    void anUnknownChoiceStopsTheProcessWithAClearError() throws Exception {
        Process p = ChildJvm.start(LoadProbe.class, Map.of("CLIP4J_BLAS", "fast"));
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor(240, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isNotZero();
        assertThat(out).contains("clip4j.blas (CLIP4J_BLAS) must be auto, mkl or openblas, not 'fast'");
    }

    @Test
    void thisCpusVendorIsRead() {
        assertThat(CpuFlags.vendor()).isNotBlank();
    }

    /** Runs in the child JVM: a GEMM and its gradient against float64, then what the process maps and runs. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            Torch.manualSeed(3);
            Tensor a = Tensors.randn(512, 768), b = Tensors.randn(768, 1024);
            Tensor exact = Tensors.to(Tensors.to(a, DType.F64).matmul(Tensors.to(b, DType.F64)), DType.F32);
            // 768-term float32 dot products of unit normals: rounding ~ sqrt(768) * 2^-24 * |terms| per element, far
            // under 1e-5 of the largest (~4.5 sigma of sqrt(768)), whatever order the BLAS sums in
            Parity.assertClose("gemm", a.matmul(b), exact, 1e-5);
            // the backward pass's GEMMs: d(sum(a @ b))/da = ones @ b.T, each element b's row sum (1024 terms)
            Tensor grad = Tensors.full(1, DType.F32, 512, 1024).matmul(b.t());
            Tensor ones = Tensors.full(1, DType.F64, 512, 1024);
            Tensor exactGrad = Tensors.to(ones.matmul(Tensors.to(b, DType.F64).t()), DType.F32);
            Parity.assertClose("gradient gemm", grad, exactGrad, 1e-5);
            System.out.println("blas " + Torch.blas());
            String maps = Files.readString(Path.of("/proc/self/maps"));
            System.out.println("mkl mapped " + maps.contains("libmkl_core"));
            System.out.println("gnu openmp " + maps.contains("libgomp")
                    + ", intel threading layer " + maps.contains("libmkl_intel_thread"));
            System.out.println("ok");
        }
    }

    private static String run(Map<String, String> env) throws Exception {
        return ChildJvm.run(Child.class, env, "CLIP4J_BLAS", "MKL_THREADING_LAYER", "MKL_CBWR");
    }

    /** Even asked for Intel's layer, MKL runs on libtorch's GNU OpenMP: one runtime, no intel_thread layer. */
    @Test
    void mklRunsOnLibtorchsOwnOpenMpPoolAndIsExact() throws Exception {
        String out = run(Map.of("CLIP4J_BLAS", "mkl", "MKL_CBWR", "AUTO,STRICT", "MKL_THREADING_LAYER", "INTEL",
                "OMP_WAIT_POLICY", "PASSIVE"));
        assertThat(out).contains("blas MKL").contains("mkl mapped true")
                .contains("gnu openmp true, intel threading layer false").contains("ok");
    }

    /**
     * Pitfall 15: a process on MKL leaves JavaCPP's cached libopenblas.so.0 (its link to MKL) as it finds it. Rewriting
     * it on every start crashed processes loading it at the same moment (SIGBUS in the dynamic linker, 4 of 40 starts).
     */
    @Test
    void startsOnMklLeaveTheCachedLinkAlone() throws Exception {
        Map<String, String> mkl = Map.of("CLIP4J_BLAS", "mkl", "MKL_CBWR", "AUTO,STRICT");
        run(mkl);
        Path link;
        try (var files = Files.walk(org.bytedeco.javacpp.Loader.getCacheDir().toPath())) {
            link = files.filter(f -> f.toString().contains("/openblas-")
                            && f.getFileName().toString().equals("libopenblas.so.0"))
                    .findFirst().orElseThrow();
        }
        assertThat(Files.isSymbolicLink(link)).as(link.toString()).isTrue();
        var before = Files.readAttributes(link, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        run(mkl);
        var after = Files.readAttributes(link, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        assertThat(after.lastModifiedTime()).isEqualTo(before.lastModifiedTime());
        assertThat(after.fileKey()).isEqualTo(before.fileKey());
    }

    /**
     * Pitfall 15: processes on either BLAS started together all load (one at a time, {@link NativeLoadLock}). Without
     * the lock 2 of 40 such starts died in the dynamic linker (SIGBUS), so three rounds catch it about half the time.
     */
    @Test
    void processesOnBothBlasesStartTogether() throws Exception {
        for (int round = 0; round < 3; round++) {
            java.util.List<Process> started = new java.util.ArrayList<>();
            for (String blas : new String[] {"mkl", "openblas", "mkl", "openblas"}) {
                started.add(ChildJvm.start(LoadProbe.class, Map.of("CLIP4J_BLAS", blas, "MKL_CBWR", "AUTO,STRICT",
                        "OPENBLAS_NUM_THREADS", "1")));
            }
            for (Process p : started) assertThat(ChildJvm.finish(p)).contains("result 7.0 10.0 15.0 22.0");
        }
    }

    /** While another process loads (here: this JVM holds the lock), a new one waits before touching the cache. */
    @Test
    void aProcessWaitsForAnotherOnesLoad() throws Exception {
        Process p;
        try (NativeLoadLock held = NativeLoadLock.acquire()) {
            p = ChildJvm.start(LoadProbe.class, Map.of());
            // a child that did not wait would start, load (~1 s here) and exit well within this
            boolean ended = p.waitFor(6, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(ended).as("the child ended while the lock was held").isFalse();
        }
        assertThat(ChildJvm.finish(p)).contains("result 7.0 10.0 15.0 22.0");
    }

    /** Holds the load lock until killed (for {@link #aStuckLoadDoesNotHangLaterStarts}). */
    public static final class LockHolder {
        public static void main(String[] args) throws Exception {
            try (NativeLoadLock held = NativeLoadLock.acquire()) {
                System.out.println("held " + held.held());
                Thread.sleep(120_000);
            }
        }
    }

    /** A process stopped while it holds the lock (a suspended job) delays later starts by the patience, no longer. */
    @Test
    void aStuckLoadDoesNotHangLaterStarts() throws Exception {
        Process holder = ChildJvm.start(LockHolder.class, Map.of());
        try {
            var lines = new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream()));
            assertThat(lines.readLine()).isEqualTo("held true");
            long t0 = System.nanoTime();
            try (NativeLoadLock late = NativeLoadLock.acquire(500)) {
                assertThat(late.held()).isFalse();
            }
            assertThat((System.nanoTime() - t0) / 1e9).isBetween(0.5, 30.0);
        } finally {
            holder.destroyForcibly().waitFor();
        }
        try (NativeLoadLock free = NativeLoadLock.acquire(30_000)) {
            assertThat(free.held()).isTrue(); // the holder's end released it
        }
    }

    @Test
    void openBlasStaysWhenAsked() throws Exception {
        String out = run(Map.of("CLIP4J_BLAS", "openblas", "OPENBLAS_NUM_THREADS", "2", "OMP_WAIT_POLICY", "PASSIVE"));
        assertThat(out).contains("blas OPENBLAS").contains("mkl mapped false").contains("ok");
    }
}
