package dev.clip4j.torch;

import java.util.Locale;

/**
 * Which BLAS runs libtorch's float32 GEMMs (matmul, linear, and their gradients): OpenBLAS, which the presets link, or
 * Intel's oneMKL, which the OpenBLAS preset loads in its place when {@code org.bytedeco.openblas.load=mkl_rt} is set
 * before libtorch loads (JavaCPP then points the cached {@code libopenblas.so.0} at MKL's). Decided once, before the
 * first load ({@link Torch#init}).
 *
 * <p>Why MKL on Intel CPUs: on the AMX Xeon, reproducible as below, a tiny-vit fp32 training step ran 1.24-1.33x as
 * fast as on OpenBLAS, the MLP's GEMM 1.06-1.30x, ViT-B/32's fp32 tower on libtorch 1.01-1.20x
 * ({@code bench/RESULTS.md}). Why not on AMD: never measured there, and OpenBLAS has Zen kernels of its own.
 *
 * <p>Threads: the preset runs MKL on its GNU threading layer whatever {@code MKL_THREADING_LAYER} says (checked:
 * {@code libmkl_gnu_thread}, never {@code libmkl_intel_thread}), so MKL's parallel GEMMs run on libtorch's own OpenMP
 * pool, with no pool of their own to fight it as OpenBLAS's does; their count is OpenMP's, or {@code MKL_NUM_THREADS}
 * (the launcher sets it to libtorch's, with {@code MKL_DYNAMIC=FALSE}).
 *
 * <p>Why only with {@code MKL_CBWR} set (the launcher sets {@code AUTO,STRICT}): by default MKL's sums depend on where
 * each tensor starts in memory, so a training resumed from its checkpoint drifted from an uninterrupted one in the last
 * bits ({@code LaunchCliTest}), as it still did with {@code AUTO} alone; with {@code AUTO,STRICT} it does not.
 *
 * <p>{@code -Dclip4j.blas} or {@code CLIP4J_BLAS}: {@code auto} (default: MKL on an Intel CPU where MKL's libraries are
 * on the class path and {@code MKL_CBWR} is set, else OpenBLAS), {@code mkl}, {@code openblas}.
 */
public enum Blas {
    OPENBLAS, MKL;

    /** MKL's runtime in its redistributable jar ({@code org.bytedeco:mkl:...:linux-x86_64-redist}). */
    private static final String MKL_RUNTIME = "/org/bytedeco/mkl/linux-x86_64/libmkl_rt.so.2";

    /** What the process asks for and has, gathered apart from the decision so that tests can vary each. */
    record Facts(String requested, String cpuVendor, boolean mklOnClassPath, String reproducibility,
                 String openblasLoad) {
        static Facts ofThisProcess() {
            String requested = System.getProperty("clip4j.blas", System.getenv("CLIP4J_BLAS"));
            return new Facts(requested, CpuFlags.vendor(), Blas.class.getResource(MKL_RUNTIME) != null,
                    System.getenv("MKL_CBWR"), System.getProperty("org.bytedeco.openblas.load"));
        }
    }

    /**
     * The BLAS for {@code f}. An explicit {@code mkl} that cannot run as asked is an error naming what is missing; a
     * user's own {@code org.bytedeco.openblas.load} is left alone (and reported as MKL when it names MKL).
     */
    static Blas choose(Facts f) {
        if (f.openblasLoad() != null && !f.openblasLoad().isBlank()) {
            return f.openblasLoad().toLowerCase(Locale.ROOT).startsWith("mkl") ? MKL : OPENBLAS;
        }
        String requested = f.requested() == null || f.requested().isBlank()
                ? "auto" : f.requested().trim().toLowerCase(Locale.ROOT);
        boolean reproducible = f.reproducibility() != null && !f.reproducibility().isBlank();
        switch (requested) {
            case "openblas":
                return OPENBLAS;
            case "mkl":
                if (!f.mklOnClassPath()) {
                    throw new IllegalStateException("clip4j.blas=mkl: MKL's libraries are not on the class path "
                            + "(org.bytedeco:mkl, classifier linux-x86_64-redist)");
                }
                if (!reproducible) {
                    throw new IllegalStateException("clip4j.blas=mkl needs MKL_CBWR in the environment "
                            + "(AUTO,STRICT: sums that do not depend on where a tensor starts in memory, so a resumed "
                            + "training matches an uninterrupted one); ./clip4j sets it, with MKL_NUM_THREADS and "
                            + "MKL_DYNAMIC=FALSE");
                }
                return MKL;
            case "auto":
                return f.mklOnClassPath() && reproducible && "GenuineIntel".equals(f.cpuVendor()) ? MKL : OPENBLAS;
            default:
                throw new IllegalArgumentException("clip4j.blas (CLIP4J_BLAS) must be auto, mkl or openblas, not '"
                        + f.requested() + "'");
        }
    }

    /**
     * Sets the preset's switch for this choice (before libtorch loads); a user's own non-blank switch, which
     * {@link #choose} followed, stays.
     */
    void select() {
        String own = System.getProperty("org.bytedeco.openblas.load");
        if (this == MKL && (own == null || own.isBlank())) System.setProperty("org.bytedeco.openblas.load", "mkl_rt");
    }
}
