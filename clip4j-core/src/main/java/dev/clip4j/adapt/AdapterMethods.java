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
    static final String COOP = "coop", COCOOP = "cocoop", TIP = "tip-adapter", TIP_F = "tip-adapter-f", PROBE = "linear-probe";
    static final List<String> KNOWN = List.of(COOP, COCOOP, TIP, TIP_F, PROBE);

    private AdapterMethods() {}

    /** Whether the adapter classifies class names it was not trained on (CoOp with one context for all classes). */
    static boolean classAgnostic(AdapterFiles.Meta meta) {
        return (meta.method().equals(COOP) && meta.settings().get("csc") != Boolean.TRUE) || meta.method().equals(COCOOP);
    }

    static Adapter.Classifier classifier(AdapterFiles.Meta meta, Map<String, Tensor> tensors, ClipModel clip,
                                         List<String> classNames, Path dir) {
        return switch (meta.method()) {
            case COOP -> coop(meta, tensors, clip, classNames, dir);
            case COCOOP -> cocoop(meta, tensors, clip, classNames, dir);
            case TIP, TIP_F -> tip(meta, tensors, classNames, dir);
            case PROBE -> probe(tensors, classNames, dir);
            default -> throw new InputException(dir + ": unknown method '" + meta.method() + "'");
        };
    }

    private static Tensor tensor(Map<String, Tensor> tensors, String name, Path dir, long... shape) {
        Tensor t = tensors.get(name);
        if (t == null) throw new InputException(dir + ": " + AdapterFiles.TENSORS + " has no '" + name + "'");
        long[] actual = Tensors.shape(t);
        boolean ok = actual.length == shape.length;
        for (int i = 0; ok && i < shape.length; i++) ok = shape[i] < 0 || shape[i] == actual[i];
        if (!ok || !Tensors.allFinite(t)) {
            throw new InputException(dir + ": '" + name + "' has shape " + java.util.Arrays.toString(actual)
                    + (ok ? " and values that are not finite" : ", expected " + java.util.Arrays.toString(shape).replace("-1", "any")));
        }
        return Tensors.to(t, dev.clip4j.torch.DType.F32);
    }

    private static Adapter.Classifier of(List<String> names, java.util.function.Function<Tensor, Tensor> logits) {
        return new Adapter.Classifier() {
            @Override
            public List<String> classNames() {
                return names;
            }

            @Override
            public Tensor logits(Tensor imageFeatures) {
                return logits.apply(imageFeatures);
            }
        };
    }

    private static Adapter.Classifier tip(AdapterFiles.Meta meta, Map<String, Tensor> tensors, List<String> names, Path dir) {
        Tensor w = Scope.escape(tensor(tensors, "clip_weights", dir, names.size(), -1));
        long e = w.size(1);
        Tensor keys = Scope.escape(tensor(tensors, "keys", dir, -1, e));
        Tensor values = Scope.escape(tensor(tensors, "values", dir, keys.size(0), names.size()));
        double scale = number(meta.settings(), "logit_scale", dir), alpha = number(meta.settings(), "alpha", dir),
                beta = number(meta.settings(), "beta", dir);
        return of(names, f -> TipAdapter.logits(f, w, keys, values, scale, alpha, beta));
    }

    private static Adapter.Classifier probe(Map<String, Tensor> tensors, List<String> names, Path dir) {
        Tensor w = Scope.escape(tensor(tensors, "weight", dir, names.size(), -1));
        Tensor b = Scope.escape(tensor(tensors, "bias", dir, names.size()));
        return of(names, f -> dev.clip4j.torch.NN.linear(f, w, b));
    }

    private static Adapter.Classifier cocoop(AdapterFiles.Meta meta, Map<String, Tensor> tensors, ClipModel clip,
                                             List<String> names, Path dir) {
        Map<String, Object> s = meta.settings();
        int nCtx = intSetting(s, "n_ctx", dir);
        Object init = s.get("ctx_init");
        CoCoOp.Learner learner = dev.clip4j.nn.Init.skipping(() -> new CoCoOp.Learner(clip, names, nCtx, init == null ? null : init.toString()));
        Map<String, Tensor> state = new java.util.LinkedHashMap<>();
        learner.stateDict().forEach((k, v) -> state.put(k, tensor(tensors, k, dir, Tensors.shape(v))));
        learner.load(state, dir.resolve(AdapterFiles.TENSORS).toString());
        learner.freeze();
        int block = Math.max(1, 4096 / names.size()); // images per text forward: bounds the B × n_cls prompt batch
        return of(names, f -> {
            long n = f.size(0);
            Tensor[] parts = new Tensor[(int) ((n + block - 1) / block)];
            for (int i = 0; i < parts.length; i++) {
                long from = (long) i * block;
                parts[i] = learner.logits(clip, f.narrow(0, from, Math.min(block, n - from)));
            }
            return parts.length == 1 ? parts[0] : Tensors.cat(0, parts);
        });
    }

    static double number(Map<String, Object> s, String key, Path dir) {
        Object v = s.get(key);
        if (!(v instanceof Number n) || !Double.isFinite(n.doubleValue())) {
            throw new InputException(dir.resolve(AdapterFiles.JSON) + ": settings." + key + " is not a finite number");
        }
        return n.doubleValue();
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
        Tensor ctx = tensor(tensors, "ctx", dir, Tensors.shape(learner.ctx()));
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
