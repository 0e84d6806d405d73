package dev.clip4j;

import dev.clip4j.torch.CpuFlags;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.util.Locale;
import java.util.Set;

/**
 * {@code --precision auto}, inference's default: bf16 where the CPU has native bf16 instructions (AMX or AVX-512 BF16)
 * <em>and</em> a probe GEMM of a ViT-B layer's shape measures it faster than fp32 here, else fp32 (on AVX2-only CPUs
 * such as AMD Zen 2, bf16 is emulated and several times slower). Decided once per JVM and printed once on standard
 * error. {@code CLIP4J_AUTO_PRECISION=fp32|bf16} fixes the answer without probing or printing (the test suite keeps
 * fp32 this way).
 */
public final class AutoPrecision {
    /** The choice and why, as printed. */
    public record Choice(Precision precision, String reason) {}

    /** The probe: one ViT-B/32 MLP input projection for a batch of 16 images' 50 tokens, [800, 768] · [768, 3072]. */
    static final long TOKENS = 800, WIDTH = 768, HIDDEN = 3072;
    /** bf16 must be at least this much faster: its features differ from fp32's (cosine ≥ 0.999), so a tie keeps fp32. */
    static final double MIN_SPEEDUP = 1.2;

    private static volatile Choice chosen;

    private AutoPrecision() {}

    /** The precision {@code auto} stands for on this machine (probing on first use), printing the choice once. */
    public static Precision resolve() {
        Choice c = chosen;
        if (c == null) {
            synchronized (AutoPrecision.class) {
                if (chosen == null) {
                    String override = System.getenv("CLIP4J_AUTO_PRECISION");
                    chosen = decide(override, cpuFlags(), AutoPrecision::probeSpeedup);
                    if (override == null || override.isBlank()) { // a choice the user made needs no announcement
                        System.err.println("clip4j: --precision auto: " + chosen.precision().name().toLowerCase(Locale.ROOT) + " (" + chosen.reason() + ")");
                    }
                }
                c = chosen;
            }
        }
        return c.precision();
    }

    /** The decision itself, from an override, the CPU's flags and a probe run only when the flags allow bf16. */
    static Choice decide(String override, Set<String> flags, java.util.function.DoubleSupplier probe) {
        if (override != null && !override.isBlank()) {
            Precision p;
            try {
                p = Precision.explicit(override.trim());
            } catch (IllegalArgumentException e) {
                p = null;
            }
            if (p == null || p == Precision.INT8) {
                throw new InputException("CLIP4J_AUTO_PRECISION must be fp32 or bf16, got '" + override + "'");
            }
            return new Choice(p, "CLIP4J_AUTO_PRECISION=" + override);
        }
        String nativeBf16 = flags.contains("amx_bf16") ? "amx_bf16" : flags.contains("avx512_bf16") ? "avx512_bf16" : null;
        if (nativeBf16 == null) return new Choice(Precision.FP32, "no native bf16 on this CPU: bf16 would be emulated");
        double speedup = probe.getAsDouble();
        String measured = String.format(Locale.ROOT, "%s; a %dx%dx%d GEMM ran %.1fx as fast in bf16", nativeBf16, TOKENS, WIDTH, HIDDEN, speedup);
        return new Choice(speedup >= MIN_SPEEDUP ? Precision.BF16 : Precision.FP32, measured);
    }

    /** The CPU's feature flags ({@link CpuFlags}). */
    static Set<String> cpuFlags() {
        return CpuFlags.get();
    }

    /** fp32 time / bf16 time of the probe GEMM, best of 3 after a warm-up each, on libtorch's current threads. */
    static double probeSpeedup() {
        try (Scope s = Scope.open()) {
            // constant operands: GEMM time does not depend on the values, and the global random generator stays untouched
            Tensor a = Tensors.full(0.5, DType.F32, TOKENS, WIDTH), b = Tensors.full(0.25, DType.F32, WIDTH, HIDDEN);
            double fp32 = bestSeconds(a, b);
            double bf16 = bestSeconds(Tensors.to(a, DType.BF16), Tensors.to(b, DType.BF16));
            return fp32 / bf16;
        }
    }

    private static double bestSeconds(Tensor a, Tensor b) {
        double best = Double.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            try (Scope s = Scope.open()) {
                long t0 = System.nanoTime();
                a.matmul(b); // no graph: neither input requires a gradient
                if (i > 0) best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
        }
        return best;
    }
}
