package dev.clip4j.train;

import dev.clip4j.model.ClipModel;
import org.bytedeco.pytorch.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** Which parameters train, and which get weight decay (≥ 2-D weights only: not gains, biases, embeddings, logit_scale). */
public final class ParameterGroups {
    private static final Set<String> EMBEDDINGS = Set.of("token_embedding.weight", "positional_embedding",
            "visual.positional_embedding", "visual.class_embedding", "visual.attnpool.positional_embedding");

    private ParameterGroups() {}

    public static boolean decays(String name, Tensor p) {
        return p.dim() >= 2 && !EMBEDDINGS.contains(name) && !name.equals("logit_scale");
    }

    public static boolean isImageTower(String name) {
        return name.startsWith("visual.");
    }

    /** Freezes locked towers; returns the parameters that still train. */
    public static Map<String, Tensor> trainable(ClipModel model, boolean lockImage, boolean lockText) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        model.parameters().forEach((name, p) -> {
            boolean image = isImageTower(name), scale = name.equals("logit_scale");
            boolean locked = (image && lockImage) || (!image && !scale && lockText);
            p.requires_grad_(!locked);
            if (!locked) out.put(name, p);
        });
        return out;
    }

    public static AdamW optimizer(Map<String, Tensor> params, double lr, double weightDecay) {
        AdamW opt = new AdamW(lr, 0.9, 0.98, 1e-6);
        params.forEach((name, p) -> opt.add(name, p, decays(name, p) ? weightDecay : 0.0));
        return opt;
    }
}
