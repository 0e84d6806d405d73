package dev.clip4j.train;

import dev.clip4j.Fixtures;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.checkpoint.Safetensors;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WeightInterpolationTest {
    @Test
    void interpolatesEveryWeight() {
        ClipModel a = ClipCheckpoint.loadModel(Fixtures.path("vit/weights.safetensors"));
        Map<String, Tensor> after = Safetensors.read(Fixtures.path("vit/params_after_adamw.safetensors"));
        ClipModel b = ClipModel.fromStateDict(a.config(), after, "after");
        ClipModel mid = WeightInterpolation.interpolate(a, b, 0.25, "test");
        String k = "visual.conv1.weight";
        float[] x = Tensors.toFloats(a.stateDict().get(k)), y = Tensors.toFloats(b.stateDict().get(k)), m = Tensors.toFloats(mid.stateDict().get(k));
        for (int i = 0; i < x.length; i += 97) assertThat(m[i]).isCloseTo(0.75f * x[i] + 0.25f * y[i], org.assertj.core.api.Assertions.within(1e-6f));
        ClipModel zero = WeightInterpolation.interpolate(a, b, 0.0, "test");
        assertThat(Tensors.toFloats(zero.stateDict().get("logit_scale"))).containsExactly(Tensors.toFloats(a.stateDict().get("logit_scale")));
        assertThatThrownBy(() -> WeightInterpolation.interpolate(a, b, 1.5, "test")).hasMessageContaining("alpha");
        ClipModel other = ClipCheckpoint.loadModel(Fixtures.path("resnet/weights.safetensors"));
        assertThatThrownBy(() -> WeightInterpolation.interpolate(a, other, 0.5, "test")).hasMessageContaining("different architectures");
    }

}
