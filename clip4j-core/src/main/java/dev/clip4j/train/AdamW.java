package dev.clip4j.train;

import dev.clip4j.torch.Ops;
import dev.clip4j.torch.Autocast;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW with decoupled weight decay, exactly torch 1.13's single-tensor update. Written out rather than using
 * libtorch's C++ optimizer so that its state is plain named tensors (checkpointed as safetensors) and the update
 * order is visible. Parameters with {@code weightDecay == 0} form the no-decay group.
 */
public final class AdamW {
    private final double beta1, beta2, eps;
    private double lr;
    private long step;
    private final List<Param> params = new ArrayList<>();

    private record Param(String name, Tensor value, double weightDecay, Tensor expAvg, Tensor expAvgSq) {}

    public AdamW(double lr, double beta1, double beta2, double eps) {
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
    }

    public AdamW add(String name, Tensor param, double weightDecay) {
        Tensor m = Scope.escape(Tensors.zeros(Tensors.dtype(param), Tensors.shape(param)));
        Tensor v = Scope.escape(Tensors.zeros(Tensors.dtype(param), Tensors.shape(param)));
        params.add(new Param(name, param, weightDecay, m, v));
        return this;
    }

    public void setLearningRate(double lr) {
        this.lr = lr;
    }

    public double learningRate() {
        return lr;
    }

    public long steps() {
        return step;
    }

    /** One update from the parameters' {@code .grad()}; parameters without a gradient are skipped (as PyTorch). */
    public void step() {
        step++;
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        double stepSize = lr / bc1;
        try (Scope scope = Scope.open()) {
            Grad.noGrad(() -> {
                for (Param p : params) {
                    Tensor g = p.value().grad();
                    if (g == null || g.isNull() || !g.defined()) continue;
                    if (p.weightDecay() != 0) Ops.mul_(p.value(), 1 - lr * p.weightDecay());
                    Ops.add_(Ops.mul_(p.expAvg(), beta1), g, 1 - beta1);
                    Ops.addcmul_(Ops.mul_(p.expAvgSq(), beta2), g, g, 1 - beta2);
                    Tensor denom = Ops.add_(Ops.div_(p.expAvgSq().sqrt(), bc2Sqrt), eps); // one temporary
                    Ops.addcdiv_(p.value(), p.expAvg(), denom, -stepSize);
                }
            });
        }
        // Pitfall 7: autocast must not keep serving bf16 copies of the weights of before this step.
        Autocast.clearCache();
    }

    /** Clears every parameter's gradient (sets it undefined, as {@code zero_grad(set_to_none=True)}). */
    public void zeroGrad() {
        for (Param p : params) {
            Tensor g = p.value().grad();
            if (g != null && !g.isNull() && g.defined()) p.value().mutable_grad().reset();
        }
    }

    /** Optimizer state as named tensors ({@code <param>.exp_avg}, {@code <param>.exp_avg_sq}). */
    public Map<String, Tensor> state() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Param p : params) {
            out.put(p.name() + ".exp_avg", p.expAvg());
            out.put(p.name() + ".exp_avg_sq", p.expAvgSq());
        }
        return out;
    }

    public void loadState(Map<String, Tensor> state, long steps) {
        Grad.noGrad(() -> {
            for (Param p : params) {
                Tensor m = state.get(p.name() + ".exp_avg"), v = state.get(p.name() + ".exp_avg_sq");
                if (m == null || v == null) throw new IllegalArgumentException("optimizer state lacks " + p.name());
                p.expAvg().copy_(m);
                p.expAvgSq().copy_(v);
            }
        });
        this.step = steps;
    }
}
