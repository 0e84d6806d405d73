package dev.clip4j.cli;

import dev.clip4j.adapt.AdapterFiles;
import dev.clip4j.adapt.ClassPosition;
import dev.clip4j.adapt.ClassSplit;
import dev.clip4j.adapt.ClassSubset;
import dev.clip4j.adapt.CoOp;
import dev.clip4j.adapt.FewShot;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.checkpoint.ModelFingerprint;
import dev.clip4j.data.Datasets;
import dev.clip4j.data.ImageTextDataset;
import dev.clip4j.model.ClipModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "adapt", description = "Few-shot adaptation of a frozen CLIP model; writes a small adapter directory.",
        subcommands = {AdaptCommand.CoOpCommand.class})
final class AdaptCommand implements Runnable {
    @Override
    public void run() {
        throw new UserError("choose a method: coop");
    }

    /** What every method shares: the model, the few-shot data and the output. */
    static final class FewShotOptions {
        @Option(names = "--data", required = true, description = "A class-labelled dataset: fashion-mnist, mnist, emoji:test, a class-folder tree...")
        String data;
        @Option(names = "--shots", required = true, description = "Images per class (K).") int shots;
        @Option(names = "--classes", defaultValue = "all", description = "all, base (first half of the classes) or new (the rest).")
        String classes;
        @Option(names = "--seed", defaultValue = "1", description = "Seeds the shots and the initialisation.") long seed;
        @Option(names = "--out", required = true, description = "The adapter directory to create (never overwritten).") Path out;

        void check() {
            if (shots < 1 || shots > 100_000) throw new UserError("--shots must be 1 to 100000, got " + shots);
            if (Files.exists(out)) throw new UserError(out + " already exists; adapters are never overwritten (choose another --out)");
        }
    }

    @Command(name = "coop", description = "CoOp: learn the prompt's context vectors (CLIP frozen), the paper's recipe.")
    static final class CoOpCommand implements Callable<Integer> {
        @Mixin
        CommonOptions.Model model;
        @Mixin
        FewShotOptions fs;
        @Option(names = "--n-ctx", defaultValue = "16", description = "Context vectors (default 16; --ctx-init sets it to its token count).")
        int nCtx;
        @Option(names = "--ctx-init", description = "Start the context from this phrase's token embeddings, e.g. \"a photo of a\".")
        String ctxInit;
        @Option(names = "--csc", description = "Class-specific context (one per class) instead of one shared context.")
        boolean csc;
        @Option(names = "--class-position", defaultValue = "end", description = "end (default), middle or front.")
        String classPosition;
        @Option(names = "--epochs", defaultValue = "0", description = "Epochs (default: the paper's, 50 / 100 / 200 by shots).")
        int epochs;
        @Mixin
        CommonOptions.Threads threads;

        @Override
        public Integer call() throws Exception {
            threads.apply();
            fs.check();
            if (epochs < 0 || epochs > 100_000) throw new UserError("--epochs must be 0 (the paper's) to 100000, got " + epochs);
            ClassSplit split = ClassSplit.parse(fs.classes);
            ClassPosition position = ClassPosition.parse(classPosition);
            if (ctxInit != null && ctxInit.isBlank()) throw new UserError("--ctx-init is empty");
            ClipModel clip = ClipCheckpoint.loadModel(model.model).train(false);
            String sha = ModelFingerprint.of(clip);
            ImageTextDataset data = Datasets.open(fs.data);
            ClassSubset shots = FewShot.sample(data, split.classes(data.classNames().size()), fs.shots, fs.seed);
            CoOp.Settings s = CoOp.Settings.paper(fs.shots, nCtx, ctxInit, csc, position, epochs, fs.seed);
            System.err.printf("clip4j adapt coop: %d classes × %d shots of %s, %d epochs%n", shots.classNames().size(), fs.shots,
                    data.name(), s.epochs());
            CoOp.Result r = CoOp.train(clip, shots, s, System.err);
            if (!ModelFingerprint.of(clip).equals(sha)) throw new IllegalStateException("CLIP's weights changed during adaptation");
            Map<String, Object> settings = s.toMap();
            settings.put("n_ctx", r.learner().contextCount());
            Map<String, Object> training = new LinkedHashMap<>();
            training.put("dataset", data.name());
            training.put("classes", split.id());
            training.put("shots", fs.shots);
            training.put("seed", fs.seed);
            training.put("examples", shots.size());
            training.put("image_features", "cached: CLIP's preprocessing, no augmentation");
            training.put("final_loss", r.finalLoss());
            training.put("train_accuracy", r.trainAccuracy());
            training.put("seconds", r.seconds());
            AdapterFiles.save(fs.out, new AdapterFiles.Meta("coop", shots.classNames(), model.model.toAbsolutePath().toString(), sha,
                    settings, training), Map.of("ctx", r.learner().ctx()));
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("adapter", fs.out.toString());
            out.put("method", "coop");
            out.putAll(training);
            System.out.println(Json.write(out));
            return 0;
        }
    }
}
