import dev.clip4j.model.ClipConfig;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import dev.clip4j.torch.Torch;
import dev.clip4j.train.AdamW;
import dev.clip4j.train.Objective;
import dev.clip4j.train.Objectives;
import dev.clip4j.train.ParameterGroups;
import dev.clip4j.train.TrainOptions;
import dev.clip4j.train.TrainBatch;
import dev.clip4j.train.TrainStep;
import org.bytedeco.pytorch.Tensor;

import java.util.Arrays;
import java.util.Map;
import java.util.Random;

/**
 * clip4j's training step on synthetic batches, the recipe of bench/pytorch_train.py. Args: fp32|bf16 [steps] [batch]
 * [loss] [simclr-weight]; with a loss other than infonce the batch has 10 classes (multi-positive's labels), and a SimCLR
 * weight adds the second view (SimCLR's head with hidden width 512, as the objective benchmarks use).
 */
public class TrainStepBench {
    public static void main(String[] args) {
        boolean bf16 = args.length > 0 && args[0].equals("bf16");
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 20, batch = args.length > 2 ? Integer.parseInt(args[2]) : 256;
        Torch.manualSeed(0);
        ClipModel model = ClipModel.create(ClipConfig.builtIn("tiny-vit")).train(true);
        String loss = args.length > 3 ? args[3] : TrainOptions.LOSS_INFONCE;
        double simclr = args.length > 4 ? Double.parseDouble(args[4]) : 0;
        TrainOptions options = TrainOptions.builder().data("synthetic").epochs(1).batchSize(batch).bf16(bf16).loss(loss)
                .simclrWeight(simclr).simclrHidden(512).build().validate();
        Objective objective = Objectives.create(model, options);
        objective.initializeFresh();
        Map<String, Tensor> params = objective.trainableParameters();
        AdamW opt = ParameterGroups.optimizer(params, objective::decays, 1e-3, 0.2); // as the Trainer builds it
        Tensor images = Scope.escape(Tensors.randn(batch, 3, 32, 32));
        long[] ids = new long[batch * 14];
        Random rng = new Random(0);
        for (int i = 0; i < batch; i++) {
            ids[i * 14] = 49406;
            for (int j = 1; j < 13; j++) ids[i * 14 + j] = 1 + rng.nextInt(49000);
            ids[i * 14 + 13] = 49407;
        }
        Tensor tokens = Scope.escape(Tensors.fromLongs(ids, batch, 14));
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = loss.equals(TrainOptions.LOSS_INFONCE) ? -1 : i % 10;
        Tensor second = simclr > 0 ? Scope.escape(Tensors.randn(batch, 3, 32, 32)) : null;
        double[] rates = new double[steps];
        for (int s = 0; s < steps + 3; s++) {
            long t0 = System.nanoTime();
            TrainStep.run(objective, opt, params, new TrainBatch(images, tokens, labels, second), 1e-3, 1.0); // the Trainer's step
            if (s >= 3) rates[s - 3] = batch / ((System.nanoTime() - t0) / 1e9);
        }
        double[] sorted = rates.clone();
        Arrays.sort(sorted);
        System.out.printf("{\"peer\": \"clip4j\", \"what\": \"train step tiny-vit\", \"loss\": \"%s\", \"simclr_weight\": %s, "
                + "\"precision\": \"%s\", \"batch\": %d, "
                + "\"threads\": %d, \"steps\": %d, \"samples_per_sec_median\": %.1f, \"samples_per_sec_best\": %.1f}%n",
                loss, simclr, bf16 ? "bf16 autocast" : "fp32", batch, Torch.threads(), steps, sorted[steps / 2], sorted[steps - 1]);
    }
}
