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
 * <p>Pitfall 5: OpenBLAS's own thread pool fights libtorch's OpenMP pool; the presets expose no setter, so
 * {@code OPENBLAS_NUM_THREADS=1} must be in the environment (the launcher sets it) and we warn when it is not.
 */
public final class Torch {
    private static volatile boolean loaded;

    private Torch() {}

    /** Loads the natives (idempotent, thread-safe). Every facade entry point calls this. */
    public static void init() {
        if (loaded) return;
        synchronized (Torch.class) {
            if (loaded) return;
            try {
                String platform = Loader.getPlatform();
                File torchDir = Loader.cacheResource(torch.class, "/org/bytedeco/pytorch/" + platform + "/");
                Loader.cacheResource(openblas.class, "/org/bytedeco/openblas/" + platform + "/");
                if (torchDir == null) {
                    throw new IllegalStateException("libtorch natives for " + platform + " are not on the class path");
                }
                Loader.load(torch.class);
                if (!"1".equals(System.getenv("OPENBLAS_NUM_THREADS"))) {
                    // OpenBLAS reads its thread count at load time only, from the environment; the launcher,
                    // the test runner and the README set it. Say so rather than run three times slower.
                    System.err.println("clip4j: warning: OPENBLAS_NUM_THREADS is not 1; OpenBLAS threads may fight "
                            + "libtorch's OpenMP pool (export OPENBLAS_NUM_THREADS=1)");
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

    /** Sets libtorch's intra-op thread count (0 or less: keep the default, one per core). */
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
