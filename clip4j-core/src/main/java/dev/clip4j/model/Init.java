package dev.clip4j.model;

import dev.clip4j.torch.Ops;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

/** Parameter initialisers matching OpenAI's {@code initialize_parameters} and PyTorch's layer defaults. */
final class Init {
    private Init() {}

    static Tensor normal(double std, long... shape) {
        return Ops.mul_(Tensors.randn(shape), std);
    }

    /** U(-bound, bound), PyTorch's default for Linear/Conv weights and biases with bound = 1/sqrt(fan_in). */
    static Tensor uniform(double bound, long... shape) {
        return Tensors.empty(DType.F32, shape).uniform_(-bound, bound, null);
    }

    static Tensor ones(long... shape) {
        return Tensors.full(1.0, DType.F32, shape);
    }

    static Tensor zeros(long... shape) {
        return Tensors.zeros(DType.F32, shape);
    }

    /** Xavier-uniform, as {@code nn.MultiheadAttention} initialises {@code in_proj_weight}. */
    static Tensor xavierUniform(long fanOut, long fanIn) {
        double bound = Math.sqrt(6.0 / (fanIn + fanOut));
        return uniform(bound, fanOut, fanIn);
    }

    /** Overwrites a parameter with N(0, std^2) samples, outside autograd. */
    static void fillNormal(Tensor param, double std) {
        dev.clip4j.torch.Grad.noGrad(() -> param.normal_(0.0, std, null));
    }

    static void fillZeros(Tensor param) {
        dev.clip4j.torch.Grad.noGrad(() -> param.zero_());
    }
}
