package dev.clip4j.cli;

import dev.clip4j.adapt.Adaptation;
import dev.clip4j.adapt.ClassPosition;
import dev.clip4j.adapt.ClassSplit;
import dev.clip4j.adapt.CoOp;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "adapt", description = "Few-shot adaptation of a frozen CLIP model; writes a small adapter directory.",
        subcommands = {AdaptCommand.CoOpCommand.class, AdaptCommand.CoCoOpCommand.class, AdaptCommand.TipAdapterCommand.class,
                AdaptCommand.LinearProbeCommand.class})
final class AdaptCommand implements Runnable {
    @Override
    public void run() {
        throw new UserError("choose a method: coop, cocoop, tip-adapter or linear-probe");
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

        /** Checks the options, loads the model and samples the shots (before any training: bad input fails fast). */
        Adaptation prepare(Path model) {
            if (shots < 1 || shots > 100_000) throw new UserError("--shots must be 1 to 100000, got " + shots);
            if (Files.exists(out)) throw new UserError(out + " already exists; adapters are never overwritten (choose another --out)");
            return Adaptation.prepare(model, data, shots, ClassSplit.parse(classes), seed, out);
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
        @Option(names = "--augment", negatable = true, defaultValue = "false", fallbackValue = "true",
                description = "Train on a new augmented view of every shot each epoch (random resized crop 0.08-1, flip: the reference's loader) instead of features cached once.")
        boolean augment;
        @Mixin
        CommonOptions.Threads threads;

        @Override
        public Integer call() throws Exception {
            threads.apply();
            if (epochs < 0 || epochs > 100_000) throw new UserError("--epochs must be 0 (the paper's) to 100000, got " + epochs);
            ClassPosition position = ClassPosition.parse(classPosition);
            if (ctxInit != null && ctxInit.isBlank()) throw new UserError("--ctx-init is empty");
            Adaptation run = fs.prepare(model.model);
            CoOp.Settings s = CoOp.Settings.paper(fs.shots, nCtx, ctxInit, csc, position, epochs, fs.seed, augment);
            System.err.printf("clip4j adapt coop: %d classes × %d shots of %s, %d epochs%n", run.shots().classNames().size(), fs.shots,
                    run.datasetName(), s.epochs());
            System.out.println(Json.write(run.coop(s, System.err)));
            return 0;
        }
    }

    @Command(name = "cocoop", description = "CoCoOp: CoOp's context shifted per image by a meta-net (CLIP frozen).")
    static final class CoCoOpCommand implements Callable<Integer> {
        @Mixin
        CommonOptions.Model model;
        @Mixin
        FewShotOptions fs;
        @Option(names = "--n-ctx", defaultValue = "4", description = "Context vectors without --ctx-init (default 4).") int nCtx;
        @Option(names = "--ctx-init", defaultValue = "a photo of a", description = "Initial phrase (default \"${DEFAULT-VALUE}\"); \"\" for random N(0, 0.02).")
        String ctxInit;
        @Option(names = "--epochs", defaultValue = "0", description = "Epochs (default: the paper's 10).") int epochs;
        @Option(names = "--batch-size", defaultValue = "0", description = "Images per step (default: the paper's 1).") int batch;
        @Option(names = "--augment", negatable = true, defaultValue = "false", fallbackValue = "true",
                description = "Train on a new augmented view of every shot each epoch (random resized crop 0.08-1, flip: the reference's loader) instead of features cached once.")
        boolean augment;
        @Mixin
        CommonOptions.Threads threads;

        @Override
        public Integer call() throws Exception {
            threads.apply();
            if (epochs < 0 || epochs > 100_000) throw new UserError("--epochs must be 0 (the paper's) to 100000, got " + epochs);
            if (batch < 0 || batch > 65536) throw new UserError("--batch-size must be 0 (the paper's) to 65536, got " + batch);
            Adaptation run = fs.prepare(model.model);
            dev.clip4j.adapt.CoCoOp.Settings s = dev.clip4j.adapt.CoCoOp.Settings.paper(ctxInit.isBlank() ? null : ctxInit, nCtx,
                    epochs, batch, fs.seed, augment);
            System.err.printf("clip4j adapt cocoop: %d classes × %d shots of %s, %d epochs%n", run.shots().classNames().size(), fs.shots,
                    run.datasetName(), s.epochs());
            System.out.println(Json.write(run.cocoop(s, System.err)));
            return 0;
        }
    }

    @Command(name = "tip-adapter", description = "Tip-Adapter: a training-free cache of the shots' features (--finetune: Tip-Adapter-F).")
    static final class TipAdapterCommand implements Callable<Integer> {
        @Mixin
        CommonOptions.Model model;
        @Mixin
        FewShotOptions fs;
        @Option(names = "--finetune", description = "Tip-Adapter-F: train the cache keys (AdamW, 20 epochs).") boolean finetune;
        @Option(names = "--augment-views", defaultValue = "10", description = "Augmented views averaged per key (default 10).") int views;
        @Option(names = "--epochs", defaultValue = "20", description = "Tip-Adapter-F epochs (default 20).") int epochs;
        @Mixin
        CommonOptions.Threads threads;

        @Override
        public Integer call() throws Exception {
            threads.apply();
            if (views < 1 || views > 1000) throw new UserError("--augment-views must be 1 to 1000, got " + views);
            if (epochs < 1 || epochs > 100_000) throw new UserError("--epochs must be 1 to 100000, got " + epochs);
            Adaptation run = fs.prepare(model.model);
            dev.clip4j.adapt.TipAdapter.Settings s = new dev.clip4j.adapt.TipAdapter.Settings(views, finetune, epochs, 1e-3, fs.seed);
            System.out.println(Json.write(run.tipAdapter(s, System.err)));
            return 0;
        }
    }

    @Command(name = "linear-probe", description = "Logistic regression on the shots' frozen features, L2 chosen on validation shots.")
    static final class LinearProbeCommand implements Callable<Integer> {
        @Mixin
        CommonOptions.Model model;
        @Mixin
        FewShotOptions fs;
        @Mixin
        CommonOptions.Threads threads;

        @Override
        public Integer call() throws Exception {
            threads.apply();
            System.out.println(Json.write(fs.prepare(model.model).linearProbe(System.err)));
            return 0;
        }
    }
}
