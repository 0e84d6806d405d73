package dev.clip4j.pretrain;

import dev.clip4j.nn.Module;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Ops;
import org.bytedeco.pytorch.Tensor;

import java.util.Map;

/**
 * ALBEF's momentum model: {@link #twin} is a frozen copy (no parameter requires grad, so no gradient ever reaches it),
 * and {@link #update} moves each of its parameters to {@code m·θm + (1 − m)·θ}, computed as ALBEF writes it
 * ({@code param_m * m + param * (1 - m)}: two products, then their sum).
 */
public final class Momentum {
    private Momentum() {}

    /** A copy of {@code online} that never trains. */
    public static <M extends Module> M twin(M online) {
        M copy = online.copy();
        copy.freeze();
        return copy;
    }

    public static void update(Module online, Module momentum, double m) {
        if (!(m >= 0 && m <= 1)) throw new IllegalArgumentException("momentum must be in [0, 1], got " + m);
        Map<String, Tensor> theirs = momentum.namedParameters();
        Grad.noGrad(() -> online.namedParameters().forEach((k, theta) -> {
            Tensor thetaM = theirs.get(k);
            if (thetaM == null) throw new IllegalStateException("momentum copy has no parameter " + k);
            Tensor fresh = Ops.mul(theta.detach(), 1.0 - m).to(thetaM.scalar_type());
            Ops.mul_(thetaM, m).add_(fresh);
        }));
    }
}
