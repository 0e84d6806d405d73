package dev.clip4j.torch;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas;
import org.bytedeco.pytorch.global.torch;

import java.io.File;
import java.io.IOException;

/**
 * Loads libtorch once, the way that survives the machines we run on, and owns process-wide settings.
 *
 * <p>Pitfall 6: where Debian's {@code python3-torch} is installed, the dynamic linker can resolve
 * {@code libjnitorch.so}'s dependency on {@code libtorch_cpu.so} to the system copy and crash. We
 * extract the bundled natives into JavaCPP's cache first, so that every dependency resolves next to
 * the JNI library ({@code $ORIGIN}), and only then load.
 *
 * <p>Pitfall 5: libtorch's float32 GEMMs run on OpenBLAS's own thread pool, sized at load from
 * {@code OPENBLAS_NUM_THREADS} (the presets expose no setter). With one BLAS thread those GEMMs use one core whatever
 * libtorch's thread count; with several, they fight OpenMP's threads unless those sleep when idle
 * ({@code OMP_WAIT_POLICY=PASSIVE}). The launcher sets both (BLAS threads = libtorch's); we warn on the fighting mix.
 */
public final class Torch {
    private static volatile boolean loaded;
    private static volatile Blas blas;

    private Torch() {}

    /** Loads the natives (idempotent, thread-safe). Every facade entry point calls this. */
    public static void init() {
        if (loaded) return;
        synchronized (Torch.class) {
            if (loaded) return;
            CpuPlatform.pin();
            try (NativeLoadLock ignored = NativeLoadLock.acquire()) {
                String platform = Loader.getPlatform();
                Blas chosen = Blas.choose(Blas.Facts.ofThisProcess());
                blas = chosen;
                chosen.select(); // before libtorch loads: it links whatever libopenblas.so.0 then points at
                File torchDir = Loader.cacheResource(torch.class, "/org/bytedeco/pytorch/" + platform + "/");
                // OpenBLAS's files beside it, for libtorch's search path; never where MKL takes its place: the preset
                // points the cached libopenblas.so.0 at MKL's, and writing OpenBLAS's file back over that link while
                // another process loads it crashed that process (SIGBUS in the dynamic linker; pitfall 15)
                if (chosen == Blas.OPENBLAS) {
                    Loader.cacheResource(openblas.class, "/org/bytedeco/openblas/" + platform + "/");
                }
                if (torchDir == null) {
                    throw new IllegalStateException("libtorch natives for " + platform + " are not on the class path");
                }
                Loader.load(torch.class);
                // libtorch's own default comes from cpuinfo, which counts 1 core on some VMs (seen on a 2-core Zen 5
                // VM: every command ran on one thread); one per core, as the JVM counts them (cgroup-aware), unless the
                // user set OpenMP's or libtorch's variable.
                if (System.getenv("OMP_NUM_THREADS") == null && System.getenv("TORCH_NUM_THREADS") == null) {
                    torch.set_num_threads(Runtime.getRuntime().availableProcessors());
                }
                String blasThreads = System.getenv("OPENBLAS_NUM_THREADS");
                String wait = System.getenv("OMP_WAIT_POLICY");
                // MKL's GNU layer runs on libtorch's own OpenMP pool: nothing to fight
                if (chosen == Blas.OPENBLAS && !"1".equals(blasThreads) && !"passive".equalsIgnoreCase(wait)) {
                    // OpenBLAS reads its thread count at load time only, from the environment. Several BLAS threads
                    // beside OpenMP threads that spin when idle fight for the cores (pitfall 5): say so rather than
                    // run slower. ./clip4j sets both; so should a JVM that embeds clip4j.
                    System.err.println("clip4j: warning: OpenBLAS may run several threads while OpenMP's idle threads "
                            + "spin; they fight for the cores (export OMP_WAIT_POLICY=PASSIVE and OPENBLAS_NUM_THREADS="
                            + "<threads>, or OPENBLAS_NUM_THREADS=1)");
                }
            } catch (IOException e) {
                throw new IllegalStateException("cannot extract the libtorch natives: " + e.getMessage(), e);
            } catch (UnsatisfiedLinkError e) {
                throw new IllegalStateException("cannot load libtorch (it needs glibc >= 2.35, x86-64 Linux): "
                        + e.getMessage(), e);
            }
            loaded = true;
        }
    }

    /** The BLAS that runs libtorch's float32 GEMMs in this process ({@link Blas}; loads libtorch first). */
    public static Blas blas() {
        init();
        return blas;
    }

    /** Sets libtorch's intra-op thread count (0 or less: keep the default, one per core; see {@link #init}). */
    public static void setThreads(int threads) {
        init();
        if (threads > 0) torch.set_num_threads(threads);
    }

    public static int threads() {
        init();
        return torch.get_num_threads();
    }

    public static void manualSeed(long seed) {
        init();
        torch.manual_seed(seed);
    }

    /**
     * Hands freed native heap memory back to the kernel ({@code malloc_trim(0)}), after a one-time release of much
     * memory (int8's freed float weights, ONNX Runtime's session-making scratch): under ./clip4j's malloc settings
     * (a 1 GB trim threshold, so training steps reuse warm pages) it would otherwise stay resident for good.
     */
    public static void trimMemory() {
        org.bytedeco.javacpp.Pointer.trimMemory();
    }

    /**
     * The directory of a jar's native libraries ({@code resource}, e.g. {@code /ai/onnxruntime/native/linux-x64/}),
     * extracted once into JavaCPP's cache ({@code ~/.javacpp/cache}, per jar, under a lock) beside libtorch's, or null
     * where the class path has none: for libraries that otherwise extract a fresh copy into a new temporary directory
     * on every start (ONNX Runtime's Java loader, which leaves the directory behind).
     */
    public static File cachedNatives(Class<?> owner, String resource) {
        try {
            return Loader.cacheResource(owner, resource);
        } catch (IOException | RuntimeException e) {
            return null; // an unwritable cache: the library's own loader then runs as before
        }
    }

    /** The file libtorch_cpu.so was loaded from, as the process maps it (for the system-libtorch regression test). */
    public static String loadedLibtorchPath() {
        init();
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps"))) {
                int i = line.indexOf('/');
                if (i >= 0 && line.endsWith("libtorch_cpu.so")) return line.substring(i);
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }
}
