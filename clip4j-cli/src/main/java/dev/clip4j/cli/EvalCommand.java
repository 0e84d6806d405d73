package dev.clip4j.cli;

import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.data.Datasets;
import dev.clip4j.data.ImageTextDataset;
import dev.clip4j.eval.ConfusionMatrixPlot;
import dev.clip4j.eval.ZeroShot;
import dev.clip4j.eval.ZeroShotResult;
import dev.clip4j.io.AtomicFiles;
import dev.clip4j.model.ClipModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "eval", description = "Evaluate a model.", subcommands = {EvalCommand.ZeroShotCommand.class,
        EvalCommand.RetrievalCommand.class, EvalCommand.LinearProbeCommand.class, EvalCommand.AdapterCommand.class})
final class EvalCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new UserError("choose an evaluation: zero-shot, retrieval, linear-probe or adapter");
    }

    @Command(name = "zero-shot", description = "Zero-shot classification with prompt ensembling: top-1/top-5, per class, confusion matrix.")
    static final class ZeroShotCommand implements Callable<Integer> {
        @Mixin
        CommonOptions.Model model;

        @Option(names = "--data", required = true, description = "fashion-mnist:test, mnist:test, or a class-folder tree.")
        String data;

        @Option(names = "--templates", description = "A file of prompt templates, one per line, {} for the class name.")
        Path templates;

        @Option(names = "--output", description = "JSON report (top1 as a fraction under 'top1').")
        Path output;

        @Option(names = "--confusion-png", description = "Write the confusion matrix as a PNG here.")
        Path confusionPng;

        @Option(names = {"--batch-size", "--batch"}, defaultValue = "256") int batch;
        @Mixin
        CommonOptions.Threads threads;
        @Mixin
        CommonOptions.EvalPrecision precision;
        @Mixin
        CommonOptions.EvalBackend backend;

        @Override
        public Integer call() throws Exception {
            threads.apply();
            Options.batchSize(batch);
            List<String> t = null; // the dataset's own templates (emoji: emoji templates) unless a file is given
            if (templates != null) {
                t = Files.readAllLines(templates).stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
                if (t.isEmpty()) throw new UserError(templates + ": no templates");
                for (String s : t) if (!s.contains("{}")) throw new UserError(templates + ": template without {}: " + s);
            }
            ClipModel m = precision.load(model.model);
            ImageTextDataset ds = Datasets.open(data);
            List<String> templateList = t == null ? ds.templates() : t;
            ZeroShotResult r = backend.evaluate(m, precision.precision, towers -> ZeroShot.evaluate(m, towers, ds, templateList, batch));
            report(r, output, Map.of());
            if (confusionPng != null) ConfusionMatrixPlot.write(r, confusionPng);
            return 0;
        }
    }

    /** The zero-shot report (JSON to {@code output} when given, a summary line on stdout), with extra fields first. */
    static void report(ZeroShotResult r, Path output, Map<String, Object> extra) throws java.io.IOException {
        Map<String, Object> out = new LinkedHashMap<>(extra);
        out.put("dataset", r.dataset());
        out.put("examples", r.examples());
        out.put("top1", r.top1());
        out.put("top5", r.top5());
        out.put("chance", r.chance());
        Map<String, Double> perClass = new LinkedHashMap<>();
        for (int i = 0; i < r.classes().size(); i++) perClass.put(r.classes().get(i), r.perClassAccuracy()[i]);
        out.put("per_class", perClass);
        out.put("confusion", r.confusion());
        if (output != null) AtomicFiles.writeString(output, Json.write(out) + "\n");
        System.out.printf("%s: top-1 %.4f, top-5 %.4f (chance %.4f) over %d images%n", r.dataset(), r.top1(), r.top5(),
                r.chance(), r.examples());
    }

    @Command(name = "adapter", description = "Score an adapter (./clip4j adapt) on a class-labelled dataset: top-1/top-5, per class.")
    static final class AdapterCommand implements Callable<Integer> {
        @Option(names = "--adapter", required = true, description = "The adapter directory.") Path adapter;
        @Option(names = "--model", description = "The CLIP model it adapts, if it moved (its weights must match).") Path model;
        @Option(names = "--data", required = true, description = "e.g. fashion-mnist:test, emoji:test, a class-folder tree.") String data;
        @Option(names = "--classes", defaultValue = "all", description = "all, base (first half of the classes) or new (the rest).")
        String classes;
        @Option(names = "--output", description = "JSON report (top1 as a fraction under 'top1').") Path output;
        @Option(names = {"--batch-size", "--batch"}, defaultValue = "256") int batch;
        @Mixin
        CommonOptions.Threads threads;

        @Override
        public Integer call() throws Exception {
            threads.apply();
            Options.batchSize(batch);
            dev.clip4j.adapt.ClassSplit split = dev.clip4j.adapt.ClassSplit.parse(classes);
            dev.clip4j.adapt.Adapter a = dev.clip4j.adapt.Adapter.load(adapter, model);
            ImageTextDataset ds = Datasets.open(data);
            ImageTextDataset scored = split == dev.clip4j.adapt.ClassSplit.ALL ? ds
                    : dev.clip4j.adapt.ClassSubset.of(ds, split.classes(ds.classNames().size()), "[" + split.id() + "]");
            ZeroShotResult r = a.evaluate(scored, batch);
            Map<String, Object> head = new LinkedHashMap<>();
            head.put("adapter", adapter.toString());
            head.put("method", a.method());
            report(r, output, head);
            return 0;
        }
    }

    @Command(name = "retrieval", description = "Image-text retrieval: R@1/5/10 both ways and mean rank.")
    static final class RetrievalCommand implements Callable<Integer> {
        @Mixin
        CommonOptions.Model model;

        @Option(names = "--data", required = true, description = "A captions file (.tsv/.csv/.jsonl) or a dataset name.")
        String data;

        @Option(names = "--output", description = "JSON report (recalls as r1/r5/r10 under image_to_text and text_to_image).")
        Path output;

        @Option(names = {"--batch-size", "--batch"}, defaultValue = "256") int batch;
        @Option(names = "--rerank-itm", description = "Re-rank each query's top K (by ITC) with the ITM head of a fusion "
                + "model (a run of ./clip4j pretrain), as ALBEF; 0: ITC only (default).", defaultValue = "0") int rerankItm;
        @Option(names = "--rerank-score", defaultValue = "itm", description = "itm: the ITM head's matched logit (ALBEF's, "
                + "default); itm+itc: that logit plus the ITC cosine (BLIP's).") String rerankScore;
        @Mixin
        CommonOptions.Threads threads;
        @Mixin
        CommonOptions.EvalPrecision precision;
        @Mixin
        CommonOptions.EvalBackend backend;

        @Override
        public Integer call() throws Exception {
            threads.apply();
            Options.batchSize(batch);
            if (rerankItm < 0 || rerankItm > 1000) throw new UserError("--rerank-itm must be 0..1000, got " + rerankItm);
            if (rerankItm > 0 && !precision.precision.equalsIgnoreCase("fp32")) throw new UserError("--rerank-itm runs in fp32 only");
            if (rerankItm > 0 && !backend.backend.equalsIgnoreCase("torch")) throw new UserError("--rerank-itm runs on --backend torch only");
            dev.clip4j.model.ClipModel clip = precision.load(model.model);
            dev.clip4j.data.ImageTextDataset set = Datasets.open(data);
            dev.clip4j.eval.RetrievalResult r;
            dev.clip4j.pretrain.ItmReranking.Score score = dev.clip4j.pretrain.ItmReranking.Score.parse(rerankScore);
            if (rerankItm > 0) {
                java.nio.file.Path checkpoint = dev.clip4j.checkpoint.ModelLocator.newestCheckpoint(model.model);
                if (checkpoint == null) checkpoint = model.model;
                r = dev.clip4j.pretrain.ItmReranking.evaluate(clip, dev.clip4j.pretrain.ItmReranking.loadFusion(checkpoint, clip), set,
                        batch, rerankItm, score);
            } else {
                r = backend.evaluate(clip, precision.precision, towers -> dev.clip4j.eval.Retrieval.evaluate(clip, towers, set, batch));
            }
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("dataset", r.dataset());
            out.put("pairs", r.pairs());
            out.put("image_to_text", recall(r.imageToText()));
            out.put("text_to_image", recall(r.textToImage()));
            if (output != null) AtomicFiles.writeString(output, Json.write(out) + "\n");
            System.out.printf("%s (%d pairs): image->text R@1 %.4f R@5 %.4f R@10 %.4f; text->image R@1 %.4f R@5 %.4f R@10 %.4f%n",
                    r.dataset(), r.pairs(), r.imageToText().r1(), r.imageToText().r5(), r.imageToText().r10(),
                    r.textToImage().r1(), r.textToImage().r5(), r.textToImage().r10());
            return 0;
        }

        private static Map<String, Object> recall(dev.clip4j.eval.RetrievalResult.Recall r) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("r1", r.r1());
            m.put("r5", r.r5());
            m.put("r10", r.r10());
            m.put("mean_rank", r.meanRank());
            return m;
        }
    }

    @Command(name = "linear-probe", description = "Logistic regression on frozen image features (the reference upper bound).")
    static final class LinearProbeCommand implements Callable<Integer> {
        @Mixin
        CommonOptions.Model model;
        @Option(names = "--train-data", required = true, description = "e.g. fashion-mnist:train") String trainData;
        @Option(names = "--data", required = true, description = "e.g. fashion-mnist:test") String data;
        @Option(names = "--epochs", defaultValue = "300", description = "Full-batch optimisation steps.") int epochs;
        @Option(names = "--l2", defaultValue = "1e-4") double l2;
        @Option(names = "--output", description = "JSON report (top1 as a fraction).") Path output;
        @Mixin
        CommonOptions.Threads threads;

        @Override
        public Integer call() throws Exception {
            threads.apply();
            if (epochs < 1 || epochs > 1_000_000) throw new UserError("--epochs must be 1 to 1000000, got " + epochs);
            if (Options.finite("--l2", l2) < 0) throw new UserError("--l2 must be 0 or more, got " + l2);
            dev.clip4j.eval.LinearProbe.Result r = dev.clip4j.eval.LinearProbe.evaluate(ClipCheckpoint.loadModel(model.model).train(false),
                    Datasets.open(trainData), Datasets.open(data), epochs, l2);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("train", r.train());
            out.put("dataset", r.test());
            out.put("top1", r.top1());
            out.put("classes", r.classes());
            if (output != null) AtomicFiles.writeString(output, Json.write(out) + "\n");
            System.out.printf("linear probe on %s, scored on %s: top-1 %.4f%n", r.train(), r.test(), r.top1());
            return 0;
        }
    }
}
