package dev.clip4j.train;

import dev.clip4j.Fixtures;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.model.ClipConfig;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Autocast;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import dev.clip4j.torch.Torch;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Regression tests for the binding pitfalls of DEVELOPERS.md that training depends on. */
class BindingPitfallsTest {
    private static long rssKb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", ""));
        }
        throw new IllegalStateException("no VmRSS");
    }

    private static AdamW optimizerFor(ClipModel model, double lr) {
        AdamW opt = new AdamW(lr, 0.9, 0.98, 1e-6);
        model.parameters().forEach((n, p) -> opt.add(n, p, 0.2));
        return opt;
    }

    /** Pitfall 1: one scope per step keeps native memory flat (without it RSS grows by megabytes per step). */
    @Test
    void nativeMemoryStaysFlatOver1000TrainingSteps() throws Exception {
        Torch.manualSeed(7);
        ClipConfig tiny = new ClipConfig("test-tiny", 32, 32, new int[] {2}, 64, 8, 1, 16, 512, 64, 1, 2);
        ClipModel model = ClipModel.create(tiny).train(true);
        AdamW opt = optimizerFor(model, 1e-4);
        Tensor images = Scope.escape(Tensors.randn(8, 3, 32, 32));
        long[] ids = new long[8 * 16];
        for (int i = 0; i < 8; i++) {
            ids[i * 16] = 509;
            for (int j = 1; j < 6; j++) ids[i * 16 + j] = 1 + (i * 7 + j * 13) % 500;
            ids[i * 16 + 6] = 511;
        }
        Tensor text = Scope.escape(Tensors.fromLongs(ids, 8, 16));
        long baseline = 0;
        for (int step = 1; step <= 1000; step++) {
            try (Scope scope = Scope.open()) {
                opt.zeroGrad();
                Tensor loss = ContrastiveLoss.of(model.forward(images, text));
                loss.backward();
                opt.step();
            }
            if (step == 200) baseline = rssKb();
        }
        long end = rssKb();
        assertThat((double) end).as("RSS after 1000 steps vs step 200 (kB)").isLessThanOrEqualTo(baseline * 1.05);
    }

    /** Pitfall 7: after an optimizer step, a bf16 autocast forward must use the new weights, not cached old casts. */
    @Test
    void autocastForwardAfterStepUsesNewWeights() {
        ClipModel model = ClipCheckpoint.loadModel(Fixtures.path("vit/weights.safetensors")).train(true);
        Tensor images = Fixtures.tensors("vit/inputs.safetensors").get("images");
        AdamW opt = optimizerFor(model, 1e-2);
        float[] before, after, fresh;
        try (Scope scope = Scope.open(); Autocast ac = Autocast.bf16()) {
            Tensor out = model.encodeImage(images);
            before = Tensors.toFloats(out);
            out.sum().backward();
            opt.step();
            after = Tensors.toFloats(model.encodeImage(images));
        }
        Map<String, Tensor> updated = new LinkedHashMap<>(model.stateDict());
        ClipModel reference = ClipModel.fromStateDict(model.config(), updated, "updated weights").train(true);
        try (Scope scope = Scope.open(); Autocast ac = Autocast.bf16()) {
            fresh = Tensors.toFloats(Grad.noGrad(() -> reference.encodeImage(images)));
        }
        assertThat(after).as("autocast forward after the step equals a fresh model's").containsExactly(fresh);
        assertThat(after).as("the step changed the features").isNotEqualTo(before);
    }
}
