package dev.clip4j.train;

import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code torch.optim.SGD} with momentum and L2 weight decay (dampening 0, not Nesterov), PyTorch's update rule:
 * {@code g += wd·p; buf = g} on the first step, {@code buf = μ·buf + g} after; {@code p -= lr·buf}. CoOp's optimizer.
 */
public final class Sgd {
    private final double momentum, weightDecay;
    private double lr;
    private final List<Param> params = new ArrayList<>();

    private static final class Param {
        final Tensor value;
        Tensor buffer; // null until the first step, as PyTorch's lazily created momentum_buffer

        Param(Tensor value) {
            this.value = value;
        }
    }

    public Sgd(double lr, double momentum, double weightDecay) {
        this.lr = lr;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
    }

    public Sgd add(Tensor param) {
        params.add(new Param(param));
        return this;
    }

    public void setLearningRate(double lr) {
        this.lr = lr;
    }

    public double learningRate() {
        return lr;
    }

    /** One update from the parameters' {@code .grad()}; parameters without a gradient are skipped. */
    public void step() {
        try (Scope scope = Scope.open()) {
            Grad.noGrad(() -> {
                for (Param p : params) {
                    Tensor g = p.value.grad();
                    if (g == null || g.isNull() || !g.defined()) continue;
                    Tensor d = weightDecay != 0 ? g.add(Ops.mul(p.value, weightDecay)) : g;
                    if (momentum != 0) {
                        if (p.buffer == null) p.buffer = Scope.escape(d.clone());
                        else Ops.add_(Ops.mul_(p.buffer, momentum), d, 1.0);
                        d = p.buffer;
                    }
                    Ops.add_(p.value, d, -lr);
                }
            });
        }
    }

    public void zeroGrad() {
        for (Param p : params) {
            Tensor g = p.value.grad();
            if (g != null && !g.isNull() && g.defined()) p.value.mutable_grad().reset();
        }
    }

    /** The momentum buffer of the i-th parameter (null before its first step), for tests. */
    Tensor buffer(int i) {
        return params.get(i).buffer;
    }

}
