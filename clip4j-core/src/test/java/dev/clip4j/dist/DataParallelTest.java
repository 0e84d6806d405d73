package dev.clip4j.dist;

import dev.clip4j.Fixtures;
import dev.clip4j.Parity;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.DType;
import dev.clip4j.torch.Ops;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import dev.clip4j.train.ContrastiveStep;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The distributed contrastive step equals one process on the global batch: the loss and every gradient, with two and
 * three ranks, with and without micro-batches inside a rank (against one process with the same micro-batches).
 *
 * <p>In float64: the ranks add the same terms in another grouping, and in float32 merely regrouping one process's
 * sum (micro-batches of 1 vs 2, both exact) already moves the gradients of the norms' weights by up to 3.6e-6 of
 * their largest element on this model (cancellation: the sum is far smaller than its terms). That floor says nothing
 * about the distributed algebra; float64 shrinks it by 2^29 (to ~1e-14), so 1e-9 relative to the largest element
 * checks the algebra itself with room to spare. The float32 training run is checked end to end by
 * {@link DistributedTrainingTest} (loss and parameters after AdamW steps, where the float32 floor is far smaller).
 */
class DataParallelTest {
    private static final double TOLERANCE = 1e-9;

    /** Six pairs from the reference inputs (four images and two dimmed copies; five captions and one repeated). */
    private static Tensor[] batch() {
        Map<String, Tensor> in = Fixtures.tensors("vit/inputs.safetensors");
        Tensor images = in.get("images"), text = in.get("text");
        Tensor six = Tensors.to(Tensors.cat(0, images, Ops.mul(images.narrow(0, 0, 2), 0.5)), DType.F64);
        Tensor captions = Tensors.cat(0, text, text.narrow(0, 1, 1));
        return new Tensor[] {Scope.escape(six), Scope.escape(captions)};
    }

    private static ClipModel model() {
        ClipModel m = ClipCheckpoint.loadModel(Fixtures.path("vit/weights.safetensors"));
        m.to(DType.F64);
        return m.train(true);
    }

    private static Map<String, double[]> grads(ClipModel m) {
        Map<String, double[]> g = new LinkedHashMap<>();
        m.parameters().forEach((k, p) -> g.put(k, Tensors.toDoubles(p.grad())));
        return g;
    }

    record Outcome(double loss, Map<String, double[]> grads) {}

    private static void check(int world, int microBatch) throws Exception {
        Tensor[] b = batch();
        ClipModel one = model();
        // the same micro-batches on one process: what distribution adds is measured, not micro-batching's own rounding
        // (TrainingTest bounds that: micro-batches change the GEMM shapes, hence the kernels' summation order)
        double expectedLoss = ContrastiveStep.run(one, b[0], b[1], microBatch, false);
        Map<String, double[]> expected = grads(one);
        List<Outcome> ranks = Ranks.run(world, dp -> {
            ClipModel m = model();
            int n = dp.localBatch(6);
            try (Scope s = Scope.open()) {
                double loss = GlobalContrastiveStep.run(dp, m, b[0].narrow(0, (long) n * dp.rank(), n),
                        b[1].narrow(0, (long) n * dp.rank(), n), microBatch, false, m::encodeImage, m::encodeText);
                dp.sumGradients(m.parameters().values());
                return new Outcome(loss, grads(m));
            }
        });
        for (Outcome r : ranks) {
            assertThat(r.loss()).isCloseTo(expectedLoss, within(TOLERANCE * Math.abs(expectedLoss)));
            assertThat(expectedLoss).isGreaterThan(0.1); // a real loss, not a degenerate batch
            assertThat(r.grads().keySet()).isEqualTo(expected.keySet());
            expected.forEach((k, e) -> assertThat(relativeError(r.grads().get(k), e)).as(world + "-rank grad " + k)
                    .isLessThanOrEqualTo(TOLERANCE));
        }
        // the replicas hold the same gradients, bit for bit: they will take the same optimizer step
        ranks.get(0).grads().forEach((k, g) -> assertThat(ranks.get(world - 1).grads().get(k)).as(k).isEqualTo(g));
    }

    /** The largest difference relative to the largest element (as {@link Parity#relativeError}). */
    private static double relativeError(double[] a, double[] e) {
        assertThat(a).hasSameSizeAs(e);
        double diff = 0, max = 0;
        for (int i = 0; i < e.length; i++) {
            diff = Math.max(diff, Math.abs(a[i] - e[i]));
            max = Math.max(max, Math.abs(e[i]));
        }
        return max == 0 ? diff : diff / max;
    }

    @Test
    void twoRanksGiveTheGlobalBatchLossAndGradients() throws Exception {
        check(2, 0);
    }

    @Test
    void threeRanksWithMicroBatchesGiveTheGlobalBatchLossAndGradients() throws Exception {
        check(3, 1);
    }

    /**
     * Five steps of the full training step (gradients summed over ranks, global-norm clipping, AdamW with decay, the
     * logit-scale clamp) leave every rank with one process's parameters and optimizer moments, to the same 1e-9.
     */
    @Test
    void fiveAdamWStepsOnThreeRanksEqualOneProcess() throws Exception {
        Tensor[] b = batch();
        dev.clip4j.train.TrainOptions o = dev.clip4j.train.TrainOptions.builder().data("unused").arch("unused").epochs(1)
                .batchSize(6).lr(1e-2).clipNorm(0.5).build();
        ClipModel one = model();
        dev.clip4j.train.ContrastiveObjective single = new dev.clip4j.train.ContrastiveObjective(one, o);
        dev.clip4j.train.AdamW adamOne = dev.clip4j.train.ParameterGroups.optimizer(single.trainableParameters(), single::decays, o.lr(), 0.2);
        for (int step = 0; step < 5; step++) {
            dev.clip4j.train.TrainStep.run(single, adamOne, single.trainableParameters(),
                    new dev.clip4j.train.TrainBatch(b[0], b[1], new int[6], null), o.lr(), o.clipNorm());
        }
        Map<String, double[]> expected = new LinkedHashMap<>();
        one.parameters().forEach((k, p) -> expected.put(k, Tensors.toDoubles(p)));
        List<Map<String, double[]>> ranks = Ranks.run(3, dp -> {
            ClipModel m = model();
            dev.clip4j.train.ContrastiveObjective objective = new dev.clip4j.train.ContrastiveObjective(m, o);
            objective.distribute(dp);
            dev.clip4j.train.AdamW adam = dev.clip4j.train.ParameterGroups.optimizer(objective.trainableParameters(), objective::decays, o.lr(), 0.2);
            int n = dp.localBatch(6);
            for (int step = 0; step < 5; step++) {
                dev.clip4j.train.TrainStep.run(objective, adam, objective.trainableParameters(), new dev.clip4j.train.TrainBatch(
                        b[0].narrow(0, (long) n * dp.rank(), n), b[1].narrow(0, (long) n * dp.rank(), n), new int[n], null),
                        o.lr(), o.clipNorm(), dp);
            }
            Map<String, double[]> params = new LinkedHashMap<>();
            m.parameters().forEach((k, p) -> params.put(k, Tensors.toDoubles(p)));
            return params;
        });
        for (Map<String, double[]> r : ranks) {
            expected.forEach((k, e) -> assertThat(relativeError(r.get(k), e)).as("parameter " + k + " after 5 steps")
                    .isLessThanOrEqualTo(TOLERANCE));
        }
        // and the steps moved them (the comparison is not of untouched weights)
        double[] before = Tensors.toDoubles(model().parameters().get("visual.conv1.weight"));
        assertThat(relativeError(expected.get("visual.conv1.weight"), before)).isGreaterThan(1e-3);
    }

    @Test
    void collectivesSumGatherAndAgree() throws Exception {
        List<double[]> out = Ranks.run(3, dp -> {
            try (Scope s = Scope.open()) {
                Tensor mine = Tensors.fromFloats(new float[] {dp.rank(), 10 * dp.rank()}, 1, 2);
                float[] all = Tensors.toFloats(dp.gather(mine));
                double[] sum = dp.sum(dp.rank() + 1, 0.5);
                DataParallel.Agreement a = dp.agree(dp.rank() == 2, 100.0 + dp.rank());
                return new double[] {all[2], all[5], sum[0], sum[1], a.stop() ? 1 : 0, a.elapsedSeconds()};
            }
        });
        for (double[] r : out) assertThat(r).containsExactly(1, 20, 6, 1.5, 1, 102);
    }

    @Test
    void aGlobalBatchThatDoesNotSplitEvenlyIsRefused() throws Exception {
        List<String> errors = Ranks.run(2, dp -> {
            try {
                dp.localBatch(7);
                return "accepted";
            } catch (dev.clip4j.InputException e) {
                return e.getMessage();
            }
        });
        assertThat(errors.get(0)).contains("--batch-size 7").contains("multiple of the 2 ranks");
    }
}
