import dev.clip4j.model.ClipModel;
import dev.clip4j.pretrain.PretrainModels;
import dev.clip4j.pretrain.PretrainOptions;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import dev.clip4j.torch.Torch;
import dev.clip4j.train.AdamW;
import dev.clip4j.train.Objective;
import dev.clip4j.train.ParameterGroups;
import dev.clip4j.train.TrainBatch;
import dev.clip4j.train.TrainOptions;
import dev.clip4j.train.TrainStep;
import org.bytedeco.pytorch.Tensor;

import java.util.Arrays;
import java.util.Map;
import java.util.Random;

/**
 * The fusion model's pretraining step on synthetic batches (fusion-tiny, captions of 6 tokens as emoji's, 16 classes):
 * the objective and optimizer exactly as the Trainer builds them, without data loading. Args: TASKS [steps] [batch]
 * [alpha] [queue] [fp32|bf16], e.g. {@code ita,itm,mlm 20 128 0.4 4096 fp32}. One JSON line: median ms per step.
 */
public class PretrainStepBench {
    public static void main(String[] args) {
        String tasks = args[0];
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 20, batch = args.length > 2 ? Integer.parseInt(args[2]) : 128;
        double alpha = args.length > 3 ? Double.parseDouble(args[3]) : 0.4;
        int queue = args.length > 4 ? Integer.parseInt(args[4]) : 4096;
        boolean bf16 = args.length > 5 && args[5].equals("bf16");
        Torch.manualSeed(0);
        PretrainOptions p = new PretrainOptions(PretrainOptions.FUSION, PretrainOptions.parseTasks(tasks), Map.of(), PretrainOptions.HARD,
                queue, 0.995, alpha, 0.15, 0.15, 2);
        TrainOptions o = TrainOptions.builder().data("synthetic").arch("fusion-tiny").epochs(1).batchSize(batch).bf16(bf16)
                .pretrain(p).build().validate();
        ClipModel model = PretrainModels.create(o).train(true);
        Objective objective = PretrainModels.objective(model, o);
        objective.initializeFresh();
        Map<String, Tensor> params = objective.trainableParameters();
        AdamW opt = ParameterGroups.optimizer(params, objective::decays, 1e-3, 0.2);
        Tensor images = Scope.escape(Tensors.randn(batch, 3, 32, 32));
        int len = 8;
        long[] ids = new long[batch * len];
        Random rng = new Random(0);
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = i % 16;
            ids[i * len] = 49406;
            for (int j = 1; j < 7; j++) ids[i * len + j] = 1 + rng.nextInt(49000);
            ids[i * len + 7] = 49407;
        }
        Tensor tokens = Scope.escape(Tensors.fromLongs(ids, batch, len));
        double[] ms = new double[steps];
        for (int s = 0; s < steps + 3; s++) {
            objective.beforeStep(s, 2.0);
            long t0 = System.nanoTime();
            TrainStep.run(objective, opt, params, new TrainBatch(images, tokens, labels), 1e-3, 1.0);
            if (s >= 3) ms[s - 3] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        System.out.printf("{\"what\": \"fusion-tiny pretrain step\", \"tasks\": \"%s\", \"alpha\": %s, \"queue\": %d, \"precision\": \"%s\", "
                + "\"batch\": %d, \"threads\": %d, \"steps\": %d, \"median_ms\": %.1f, \"best_ms\": %.1f}%n", tasks, alpha, queue,
                bf16 ? "bf16" : "fp32", batch, Torch.threads(), steps, ms[steps / 2], ms[0]);
    }
}
