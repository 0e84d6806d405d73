package dev.clip4j.adapt;

import dev.clip4j.InputException;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** How each method's saved state becomes a classifier: the one place that knows the methods' file contents. */
final class AdapterMethods {
    static final String COOP = "coop";
    static final List<String> KNOWN = List.of(COOP);

    private AdapterMethods() {}

    /** Whether the adapter classifies class names it was not trained on (CoOp with one context for all classes). */
    static boolean classAgnostic(AdapterFiles.Meta meta) {
        return meta.method().equals(COOP) && meta.settings().get("csc") != Boolean.TRUE;
    }

    static Adapter.Classifier classifier(AdapterFiles.Meta meta, Map<String, Tensor> tensors, ClipModel clip,
                                         List<String> classNames, Path dir) {
        if (meta.method().equals(COOP)) return coop(meta, tensors, clip, classNames, dir);
        throw new InputException(dir + ": unknown method '" + meta.method() + "'");
    }

    private static Adapter.Classifier coop(AdapterFiles.Meta meta, Map<String, Tensor> tensors, ClipModel clip,
                                           List<String> classNames, Path dir) {
        Map<String, Object> s = meta.settings();
        int nCtx = intSetting(s, "n_ctx", dir);
        Object init = s.get("ctx_init");
        boolean csc = s.get("csc") == Boolean.TRUE;
        ClassPosition position = ClassPosition.parse(String.valueOf(s.getOrDefault("class_position", "end")));
        PromptLearner learner = dev.clip4j.nn.Init.skipping(() ->
                new PromptLearner(clip, classNames, nCtx, init == null ? null : init.toString(), csc, position));
        Tensor ctx = tensors.get("ctx");
        if (ctx == null) throw new InputException(dir + ": " + AdapterFiles.TENSORS + " has no 'ctx'");
        if (!java.util.Arrays.equals(Tensors.shape(ctx), Tensors.shape(learner.ctx()))) {
            throw new InputException(dir + ": ctx has shape " + java.util.Arrays.toString(Tensors.shape(ctx)) + ", the settings need "
                    + java.util.Arrays.toString(Tensors.shape(learner.ctx())));
        }
        Grad.noGrad(() -> learner.ctx().copy_(ctx));
        float[][] weights = CoOp.classifier(clip, learner);
        Tensor w = Scope.escape(Tensors.fromRows(weights));
        Tensor scale = Scope.escape(Grad.noGrad(clip::logitScale).detach());
        return new Adapter.Classifier() {
            @Override
            public List<String> classNames() {
                return classNames;
            }

            @Override
            public Tensor logits(Tensor imageFeatures) {
                return scale.mul(imageFeatures.matmul(w.t()));
            }
        };
    }

    static int intSetting(Map<String, Object> s, String key, Path dir) {
        Object v = s.get(key);
        if (!(v instanceof Number n) || n.intValue() < 1 || n.intValue() > 1 << 20) {
            throw new InputException(dir.resolve(AdapterFiles.JSON) + ": settings." + key + " is not a positive integer");
        }
        return n.intValue();
    }
}
