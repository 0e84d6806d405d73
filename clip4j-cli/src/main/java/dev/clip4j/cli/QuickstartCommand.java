package dev.clip4j.cli;

import dev.clip4j.data.BatchLoader;
import dev.clip4j.data.DataFiles;
import dev.clip4j.data.Datasets;
import dev.clip4j.data.ImageTextDataset;
import dev.clip4j.data.Prompts;
import dev.clip4j.eval.ConfusionMatrixPlot;
import dev.clip4j.eval.ZeroShot;
import dev.clip4j.eval.ZeroShotResult;
import dev.clip4j.io.AtomicFiles;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Torch;
import dev.clip4j.train.TrainOptions;
import dev.clip4j.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "quickstart", description = "Train a small CLIP on Fashion-MNIST captions, then classify the test set zero-shot.")
final class QuickstartCommand implements Callable<Integer> {
    @Option(names = "--time-budget", defaultValue = "10m", description = "Training time (default ${DEFAULT-VALUE}).")
    String timeBudget;

    @Option(names = "--out", defaultValue = "runs/quickstart", description = "Run directory (replaced) (default ${DEFAULT-VALUE}).")
    Path out;

    @Mixin
    CommonOptions.Threads threads;

    @Option(names = "--seed", defaultValue = "0") long seed;

    @Override
    public Integer call() throws Exception {
        threads.apply();
        System.err.println("clip4j quickstart: Fashion-MNIST (60,000 training images, captions from the 10 class names),"
                + " tiny-vit, " + timeBudget + " of training on " + Torch.threads() + " threads");
        Datasets.open("fashion-mnist"); // installs the data if missing, before the clock starts
        DataFiles.deleteTree(out);
        TrainOptions o = TrainOptions.builder().data("fashion-mnist:train").arch("tiny-vit")
                .timeBudgetSeconds(TrainOptions.parseDuration(timeBudget)).batchSize(256).lr(2e-3).warmupSteps(50).seed(seed)
                .checkpointEvery(200).build();
        Trainer trainer = new Trainer(o, out, false, System.err);
        Trainer.Result r = trainer.run();
        if (r.stoppedBy() != null) {
            System.err.println("clip4j: quickstart stopped; the run in " + out + " can be continued with ./clip4j train --out "
                    + out + " --resume");
            return Signals.exitCode(r.stoppedBy());
        }
        ClipModel model = trainer.model().train(false);

        ImageTextDataset test = Datasets.open("fashion-mnist:test");
        ZeroShotResult zs = ZeroShot.evaluate(model, test, test.templates(), 500);
        ConfusionMatrixPlot.write(zs, out.resolve("confusion_matrix.png"));
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("dataset", zs.dataset());
        report.put("top1", zs.top1());
        report.put("top5", zs.top5());
        report.put("steps", r.state().step());
        AtomicFiles.writeString(out.resolve("zero_shot.json"), Json.write(report) + "\n");
        String demo = classifyDemo(model, test, 5);
        RunReport.write(out, model, o, r, zs, demo);
        System.out.print(demo);
        System.out.printf("%nzero-shot top-1 on the Fashion-MNIST test split: %.2f %% (top-5 %.2f %%, chance 10 %%), "
                + "after %d steps in %.0f s%nrun: %s (checkpoint/, report.md, plots)%n", 100 * zs.top1(), 100 * zs.top5(),
                r.state().step(), r.state().elapsedSeconds(), out);
        return 0;
    }

    /** The seed demo: label probabilities {@code softmax(100 * cos)} for a few test images, one prompt per class. */
    static String classifyDemo(ClipModel model, ImageTextDataset test, int count) {
        List<String> names = test.classNames();
        List<String> prompts = names.stream().map(n -> Prompts.fill("a photo of a {}.", n)).toList();
        int[] order = BatchLoader.epochOrder(test.size(), 1, 0);
        StringBuilder sb = new StringBuilder("Label probs in class order: " + String.join(", ", names) + "\n");
        try (BatchLoader loader = new BatchLoader(test, order, 0, count, model.imageResolution(), model.contextLength(), false,
                0, 1, 1)) {
            BatchLoader.Batch b = loader.next();
            float[][] probs = ZeroShot.probabilities(model, b, prompts);
            for (int i = 0; i < count; i++) {
                int best = 0;
                for (int j = 1; j < names.size(); j++) if (probs[i][j] > probs[i][best]) best = j;
                sb.append(String.format("test image %5d (a %s): predicted %-11s Label probs:", order[i], names.get(b.labels()[i]),
                        names.get(best)));
                for (int j = 0; j < names.size(); j++) sb.append(String.format(" %.3f", probs[i][j]));
                sb.append('\n');
            }
        }
        return sb.toString();
    }
}
