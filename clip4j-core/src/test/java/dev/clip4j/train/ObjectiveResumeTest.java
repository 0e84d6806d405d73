package dev.clip4j.train;

import dev.clip4j.model.ClipModel;
import dev.clip4j.nn.Init;
import dev.clip4j.nn.Module;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The loop saves and restores an objective's own modules: a parameter and a buffer outside ClipModel. */
class ObjectiveResumeTest {
    @TempDir
    Path tmp;
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    /** A learned offset (trained towards 1 by an extra loss term) and a step counter buffer. */
    static final class Extra extends Module {
        Extra() {
            parameter("offset", Init.zeros(3));
            buffer("steps", Tensors.zeros(DType.I64));
        }

        @Override
        protected Module blank() {
            return new Extra();
        }
    }

    /** CLIP's loss plus |offset - 1|²; the counter counts optimizer steps. */
    static final class ToyObjective extends ContrastiveObjective {
        final Extra extra = new Extra();

        ToyObjective(ClipModel model, TrainOptions o) {
            super(model, o);
        }

        @Override
        public Map<String, Module> extraModules() {
            return Map.of("toy", extra);
        }

        @Override
        public Map<String, Tensor> trainableParameters() {
            Map<String, Tensor> all = new LinkedHashMap<>(super.trainableParameters());
            all.put("toy.offset", extra.namedParameters().get("offset"));
            return all;
        }

        @Override
        public boolean decays(String name) {
            return !name.startsWith("toy.") && super.decays(name);
        }

        @Override
        public Map<String, Double> step(TrainBatch batch) {
            Map<String, Double> losses = new LinkedHashMap<>(super.step(batch));
            Tensor off = extra.namedParameters().get("offset");
            Tensor term = Ops.add_(off.clone(), -1.0).pow(new org.bytedeco.pytorch.Scalar(2)).sum();
            term.backward();
            losses.put("toy", (double) Tensors.item(term));
            return losses;
        }

        @Override
        public void afterOptimizerStep() {
            super.afterOptimizerStep();
            Grad.noGrad(() -> Ops.add_(extra.namedBuffers().get("steps"), 1));
        }
    }

    @Test
    void resumeRestoresTheObjectivesParameterAndBufferBitForBit() throws Exception {
        Path data = TinyData.colourFolders(tmp.resolve("data"), 8, 1), config = TinyData.tinyConfig(tmp);
        TrainOptions o = TinyData.options(data, config, 4, 6, 0, 3);
        Trainer straight = Trainer.start(o, tmp.resolve("straight"), QUIET, ToyObjective::new);
        straight.run();
        Trainer.start(o, tmp.resolve("resumed"), QUIET, ToyObjective::new).runUntil(7);
        Trainer resumed = Trainer.resume(tmp.resolve("resumed"), null, QUIET, ToyObjective::new);
        ToyObjective r = (ToyObjective) resumed.objective();
        assertThat(Tensors.toLongs(r.extra.namedBuffers().get("steps"))[0]).as("counter restored").isEqualTo(7);
        resumed.run();
        ToyObjective a = (ToyObjective) straight.objective();
        assertThat(Tensors.toLongs(r.extra.namedBuffers().get("steps"))[0]).isEqualTo(16);
        assertThat(Tensors.toFloats(r.extra.namedParameters().get("offset")))
                .containsExactly(Tensors.toFloats(a.extra.namedParameters().get("offset")));
        assertThat(Tensors.toFloats(r.extra.namedParameters().get("offset"))[0]).as("it trained").isGreaterThan(0.001f);
        RunSafetyTest.assertSameWeights(tmp.resolve("straight"), tmp.resolve("resumed"));
        Map<String, Tensor> oa = dev.clip4j.checkpoint.Safetensors.read(tmp.resolve("straight/checkpoint/optimizer.safetensors"));
        Map<String, Tensor> ob = dev.clip4j.checkpoint.Safetensors.read(tmp.resolve("resumed/checkpoint/optimizer.safetensors"));
        assertThat(ob.keySet()).isEqualTo(oa.keySet()).anyMatch(k -> k.contains("toy.offset"));
        oa.forEach((k, v) -> dev.clip4j.Parity.assertBitIdentical(k, Tensors.toFloats(ob.get(k)), Tensors.toFloats(v)));
    }
}
