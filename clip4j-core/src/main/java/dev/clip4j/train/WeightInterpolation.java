package dev.clip4j.train;

import dev.clip4j.torch.Ops;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/** WiSE-FT: {@code (1 - alpha) * zeroShot + alpha * fineTuned}, weight by weight (integer buffers from the fine-tuned). */
public final class WeightInterpolation {
    private WeightInterpolation() {}

    public static ClipModel interpolate(ClipModel zeroShot, ClipModel fineTuned, double alpha, String origin) {
        if (alpha < 0 || alpha > 1) throw new IllegalArgumentException("--alpha must be in [0, 1], got " + alpha);
        if (!zeroShot.config().withName("").equals(fineTuned.config().withName(""))) {
            throw new IllegalArgumentException("the two models have different architectures");
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        fineTuned.stateDict().forEach((k, b) -> {
            Tensor a = zeroShot.stateDict().get(k);
            if (a == null) throw new IllegalArgumentException("the zero-shot model lacks " + k);
            out.put(k, Tensors.dtype(b).isFloatingPoint()
                    ? Ops.mul(Tensors.to(a.detach(), DType.F32), 1 - alpha).add(Ops.mul(Tensors.to(b.detach(), DType.F32), alpha))
                    : b.detach());
        });
        return ClipModel.fromStateDict(fineTuned.config().withName("wise-ft"), out, origin);
    }
}
