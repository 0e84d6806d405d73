import dev.clip4j.dist.DataParallel;
import dev.clip4j.dist.DistEnv;
import dev.clip4j.model.ClipConfig;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import dev.clip4j.torch.Torch;
import dev.clip4j.train.AdamW;
import dev.clip4j.train.Objective;
import dev.clip4j.train.Objectives;
import dev.clip4j.train.ParameterGroups;
import dev.clip4j.train.TrainBatch;
import dev.clip4j.train.TrainOptions;
import dev.clip4j.train.TrainStep;
import org.bytedeco.pytorch.Tensor;

import java.util.Arrays;
import java.util.Map;
import java.util.Random;

/**
 * clip4j's training step (InfoNCE, AdamW, clipping: the Trainer's TrainStep) on synthetic batches, on one process or as
 * one rank of a data-parallel group (torchrun's variables in the environment, as bench/dist.sh sets them). Args: arch
 * [steps] [global batch] [threads]. Rank 0 prints one JSON line: median step time, median time in collectives per step
 * (waits for the slower rank included), and the bytes each rank hands to the collectives per step.
 */
public class DistStepBench {
    public static void main(String[] args) {
        String arch = args.length > 0 ? args[0] : "tiny-vit";
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 10, global = args.length > 2 ? Integer.parseInt(args[2]) : 256;
        int threads = args.length > 3 ? Integer.parseInt(args[3]) : 0;
        Torch.setThreads(threads);
        DistEnv env = DistEnv.fromSystem();
        DataParallel dp = env == null || env.worldSize() == 1 ? null : DataParallel.join(env);
        int world = dp == null ? 1 : dp.size(), local = dp == null ? global : dp.localBatch(global);
        Torch.manualSeed(0);
        ClipConfig config = ClipConfig.builtIn(arch);
        ClipModel model = ClipModel.create(config).train(true);
        TrainOptions options = TrainOptions.builder().data("synthetic").epochs(1).batchSize(global).build().validate();
        Objective objective = Objectives.create(model, options);
        if (dp != null) objective.distribute(dp);
        Map<String, Tensor> params = objective.trainableParameters();
        AdamW opt = ParameterGroups.optimizer(params, objective::decays, 1e-4, 0.2);
        int res = config.imageResolution();
        Random rng = new Random(dp == null ? 0 : dp.rank());
        Tensor images = Scope.escape(Tensors.randn(local, 3, res, res));
        long[] ids = new long[local * 14];
        for (int i = 0; i < local; i++) {
            ids[i * 14] = 49406;
            for (int j = 1; j < 13; j++) ids[i * 14 + j] = 1 + rng.nextInt(49000);
            ids[i * 14 + 13] = 49407;
        }
        Tensor tokens = Scope.escape(Tensors.fromLongs(ids, local, 14));
        int[] labels = new int[local];
        Arrays.fill(labels, -1);
        double[] stepSeconds = new double[steps], commSeconds = new double[steps];
        long bytesPerStep = 0;
        for (int s = 0; s < steps + 2; s++) {
            DataParallel.Traffic before = dp == null ? null : dp.traffic();
            long t0 = System.nanoTime();
            TrainStep.run(objective, opt, params, new TrainBatch(images, tokens, labels, null), 1e-4, 1.0, dp);
            double took = (System.nanoTime() - t0) / 1e9;
            if (s >= 2) {
                stepSeconds[s - 2] = took;
                if (dp != null) {
                    DataParallel.Traffic after = dp.traffic();
                    commSeconds[s - 2] = after.seconds() - before.seconds();
                    bytesPerStep = after.bytes() - before.bytes();
                }
            }
        }
        if (dp != null && !dp.isLeader()) return;
        double step = median(stepSeconds), comm = median(commSeconds);
        System.out.printf("{\"what\": \"train step\", \"arch\": \"%s\", \"world\": %d, \"threads_per_rank\": %d, \"global_batch\": %d, "
                + "\"steps\": %d, \"step_s_median\": %.4f, \"comm_s_median\": %.4f, \"comm_share\": %.3f, \"bytes_per_rank_step\": %d, "
                + "\"parameters\": %d, \"samples_per_s\": %.1f}%n", arch, world, Torch.threads(), global, steps, step, comm,
                comm / step, bytesPerStep, params.values().stream().mapToLong(Tensor::numel).sum(), global / step);
        System.exit(0);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
