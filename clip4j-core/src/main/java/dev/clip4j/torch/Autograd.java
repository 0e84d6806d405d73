package dev.clip4j.torch;

import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;

import java.util.Collection;

/** Backward passes and gradient utilities. */
public final class Autograd {
    private Autograd() {}

    /** {@code output.backward(gradient)}: back-propagates a given gradient of a non-scalar output. */
    public static void backward(Tensor output, Tensor gradient) {
        output.backward(gradient, new BoolOptional(), false, new TensorArrayRefOptional());
    }

    /** A leaf copy of {@code t} that records gradients (for the feature-gradient step of micro-batching). */
    public static Tensor leaf(Tensor t) {
        return t.detach().requires_grad_(true);
    }

    public static boolean hasGrad(Tensor p) {
        Tensor g = p.grad();
        return g != null && !g.isNull() && g.defined();
    }

    /**
     * Scales gradients so that their global L2 norm is at most {@code maxNorm} (as
     * {@code torch.nn.utils.clip_grad_norm_}); returns the norm before clipping.
     */
    public static double clipGradNorm(Collection<Tensor> params, double maxNorm) {
        double sq = 0;
        for (Tensor p : params) {
            if (!hasGrad(p)) continue;
            double n = Tensors.item(p.grad().norm());
            sq += n * n;
        }
        double norm = Math.sqrt(sq);
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1) {
            Grad.noGrad(() -> {
                for (Tensor p : params) if (hasGrad(p)) p.grad().mul_(new Scalar(coef));
            });
        }
        return norm;
    }
}
