package dev.clip4j.nn;

import dev.clip4j.torch.DType;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.util.function.Supplier;

/**
 * Parameter initialisers matching OpenAI's {@code initialize_parameters} and PyTorch's layer defaults. Inside
 * {@link #skipping} every initialiser returns uninitialised memory of the right shape and draws no random numbers:
 * for modules whose values are about to be overwritten (a checkpoint load, a {@link Module#copy}).
 */
public final class Init {
    private static final ThreadLocal<Boolean> SKIP = ThreadLocal.withInitial(() -> false);

    private Init() {}

    /** Builds something (a model) without initialising its tensors. */
    public static <T> T skipping(Supplier<T> build) {
        boolean before = SKIP.get();
        SKIP.set(true);
        try {
            return build.get();
        } finally {
            SKIP.set(before);
        }
    }

    public static boolean isSkipping() {
        return SKIP.get();
    }

    public static Tensor normal(double std, long... shape) {
        if (SKIP.get()) return Tensors.empty(DType.F32, shape);
        return Ops.mul_(Tensors.randn(shape), std);
    }

    /** U(-bound, bound), PyTorch's default for Linear/Conv weights and biases with bound = 1/sqrt(fan_in). */
    public static Tensor uniform(double bound, long... shape) {
        Tensor t = Tensors.empty(DType.F32, shape);
        return SKIP.get() ? t : t.uniform_(-bound, bound, null);
    }

    public static Tensor ones(long... shape) {
        return SKIP.get() ? Tensors.empty(DType.F32, shape) : Tensors.full(1.0, DType.F32, shape);
    }

    public static Tensor zeros(long... shape) {
        return SKIP.get() ? Tensors.empty(DType.F32, shape) : Tensors.zeros(DType.F32, shape);
    }

    /** Xavier-uniform, as {@code nn.MultiheadAttention} initialises {@code in_proj_weight}. */
    public static Tensor xavierUniform(long fanOut, long fanIn) {
        double bound = Math.sqrt(6.0 / (fanIn + fanOut));
        return uniform(bound, fanOut, fanIn);
    }

    /** Overwrites a parameter with N(0, std^2) samples, outside autograd. */
    public static void fillNormal(Tensor param, double std) {
        if (!SKIP.get()) Grad.noGrad(() -> param.normal_(0.0, std, null));
    }

    public static void fillZeros(Tensor param) {
        if (!SKIP.get()) Grad.noGrad(() -> param.zero_());
    }
}
