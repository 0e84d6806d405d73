package dev.clip4j.pretrain;

import dev.clip4j.torch.Ops;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The weighted sum of a step's task losses, and each task's value for the metrics: what both pretraining objectives
 * return from {@code step}, {@code "loss"} (the total) first.
 */
final class TaskLosses {
    private final PretrainOptions options;
    private final Map<String, Double> values = new LinkedHashMap<>();
    private Tensor total;

    TaskLosses(PretrainOptions options) {
        this.options = options;
    }

    /** Adds {@code loss} times the task's weight. */
    void add(String task, Tensor loss) {
        values.put(task, (double) Tensors.item(loss));
        Tensor weighted = Ops.mul(loss, options.weight(task));
        total = total == null ? weighted : total.add(weighted);
    }

    /** The weighted total, or null when no task gave a loss. */
    Tensor total() {
        return total;
    }

    /** {@code "loss"} (the total, 0 when none) followed by each task's loss. */
    Map<String, Double> report() {
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("loss", total == null ? 0.0 : (double) Tensors.item(total));
        out.putAll(values);
        return out;
    }
}
