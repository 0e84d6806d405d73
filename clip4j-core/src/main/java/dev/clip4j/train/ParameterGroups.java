package dev.clip4j.train;

import dev.clip4j.model.ClipModel;
import dev.clip4j.nn.Module;
import org.bytedeco.pytorch.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which parameters train (a locked tower is {@link Module#freeze frozen}), and which get weight decay: each module
 * says for its own ({@link Module#decays(String)}: ≥ 2-D weights and projections, not gains, biases, embeddings or
 * {@code logit_scale}).
 */
public final class ParameterGroups {
    private ParameterGroups() {}

    /** Freezes locked towers ({@code logit_scale} always trains); returns the parameters that still train. */
    public static Map<String, Tensor> trainable(ClipModel model, boolean lockImage, boolean lockText) {
        model.unfreeze();
        if (lockImage) model.visual().freeze();
        if (lockText) model.text().freeze();
        return trainable(model);
    }

    /** The parameters of {@code module} that require grad, by dotted name. */
    public static Map<String, Tensor> trainable(Module module) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        module.namedParameters().forEach((name, p) -> {
            if (p.requires_grad()) out.put(name, p);
        });
        return out;
    }

    /** AdamW with CLIP's betas and eps; weight decay on the parameters {@code decays} names (an objective's choice). */
    public static AdamW optimizer(Map<String, Tensor> params, java.util.function.Predicate<String> decays, double lr,
                                  double weightDecay) {
        AdamW opt = new AdamW(lr, 0.9, 0.98, 1e-6);
        params.forEach((name, p) -> opt.add(name, p, decays.test(name) ? weightDecay : 0.0));
        return opt;
    }
}
