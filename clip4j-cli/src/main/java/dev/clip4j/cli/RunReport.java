package dev.clip4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.clip4j.eval.ZeroShotResult;
import dev.clip4j.io.AtomicFiles;
import dev.clip4j.model.ClipModel;
import dev.clip4j.train.TrainOptions;
import dev.clip4j.train.Trainer;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A run's plots (loss, learning rate, logit scale, zero-shot accuracy over steps) and its report.md. */
final class RunReport {
    private RunReport() {}

    static void write(Path run, ClipModel model, TrainOptions o, Trainer.Result r) throws IOException {
        write(run, model, o, r, null, null);
    }

    static void write(Path run, ClipModel model, TrainOptions o, Trainer.Result r, ZeroShotResult zeroShot,
                      String classifyDemo) throws IOException {
        List<Double> step = new ArrayList<>(), loss = new ArrayList<>(), lr = new ArrayList<>(), scale = new ArrayList<>();
        List<Double> evalStep = new ArrayList<>(), evalTop1 = new ArrayList<>();
        // pretraining's per-task losses and ITA's temperature, when the run has them
        java.util.Map<String, List<Double>> tasks = new java.util.LinkedHashMap<>();
        List<Double> temp = new ArrayList<>();
        double sps = 0, epochs = 0;
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            if (line.isBlank()) continue;
            JsonNode m = Json.MAPPER.readTree(line);
            if (m.has("zero_shot_top1")) {
                evalStep.add(m.get("step").asDouble());
                evalTop1.add(m.get("zero_shot_top1").asDouble());
            } else if (m.has("loss")) {
                step.add(m.get("step").asDouble());
                loss.add(m.get("loss").asDouble());
                lr.add(m.get("lr").asDouble());
                if (m.has("logit_scale")) scale.add(m.get("logit_scale").asDouble());
                if (m.has("temp")) temp.add(m.get("temp").asDouble());
                for (String t : dev.clip4j.pretrain.PretrainOptions.TASKS) {
                    if (m.has(t)) tasks.computeIfAbsent(t, k -> new ArrayList<>()).add(m.get(t).asDouble());
                }
                sps = m.get("samples_per_sec").asDouble();
                epochs = m.get("epoch").asDouble();
            }
        }
        if (zeroShot != null) {
            evalStep.add((double) r.state().step());
            evalTop1.add(zeroShot.top1());
        }
        List<String> plots = new ArrayList<>();
        if (!step.isEmpty()) {
            plot(run, "loss", o.pretrain() == null ? "training loss (symmetric InfoNCE)" : "training loss (weighted sum of the tasks)",
                    step, loss, plots);
            for (var t : tasks.entrySet()) {
                if (t.getValue().size() == step.size()) plot(run, "loss_" + t.getKey(), t.getKey().toUpperCase(java.util.Locale.ROOT) + " loss", step, t.getValue(), plots);
            }
            plot(run, "learning_rate", "learning rate", step, lr, plots);
            if (scale.size() == step.size()) plot(run, "logit_scale", "exp(logit_scale)", step, scale, plots);
            if (temp.size() == step.size()) plot(run, "temperature", "ITA temperature", step, temp, plots);
        }
        if (!evalStep.isEmpty()) plot(run, "zero_shot_top1", "zero-shot top-1", evalStep, evalTop1, plots);

        StringBuilder md = new StringBuilder();
        md.append("# Training run `").append(run.getFileName()).append("`\n\n");
        md.append("| | |\n|---|---|\n");
        md.append("| data | `").append(o.data()).append("` |\n");
        md.append("| architecture | `").append(model.config().name()).append("` (").append(model.parameters().values().stream()
                .mapToLong(t -> t.numel()).sum()).append(" parameters) |\n");
        md.append(String.format("| steps | %d (%.2f epochs) |%n", r.state().step(), epochs));
        md.append("| batch size | ").append(o.batchSize()).append(o.microBatch() > 0 ? " (micro-batches of " + o.microBatch() + ")" : "").append(" |\n");
        md.append("| learning rate | ").append(o.lr()).append(", warmup ").append(o.warmupSteps()).append(" steps, cosine |\n");
        // the BLAS runs the float32 GEMMs (and autocast's float32 ones): runs on OpenBLAS and on MKL differ in the last bits
        md.append("| precision | ").append(o.bf16() ? "bf16 autocast" : "fp32").append(", float32 GEMMs on ")
                .append(dev.clip4j.torch.Torch.blas() == dev.clip4j.torch.Blas.MKL ? "oneMKL" : "OpenBLAS").append(" |\n");
        md.append(String.format("| wall time | %.0f s, %.0f samples/s |%n", r.state().elapsedSeconds(), sps));
        md.append(String.format("| final loss | %.4f |%n", r.lastLoss()));
        if (zeroShot != null) {
            md.append(String.format("| zero-shot top-1 | **%.2f %%** on %s (%d images; chance %.0f %%), top-5 %.2f %% |%n",
                    100 * zeroShot.top1(), zeroShot.dataset(), zeroShot.examples(), 100 * zeroShot.chance(), 100 * zeroShot.top5()));
        }
        md.append("\nCheckpoint: `checkpoint/` (a clip4j model directory; `--model ").append(run).append("` works too). ");
        md.append("Metrics per step: `metrics.jsonl`.\n\n");
        if (zeroShot != null) {
            md.append("## Zero-shot accuracy per class\n\n| class | top-1 |\n|---|---|\n");
            for (int i = 0; i < zeroShot.classes().size(); i++) {
                md.append(String.format("| %s | %.1f %% |%n", zeroShot.classes().get(i), 100 * zeroShot.perClassAccuracy()[i]));
            }
            md.append("\n![confusion matrix](confusion_matrix.png)\n\n");
        }
        if (classifyDemo != null) md.append("## Classifying test images (the seed demo)\n\n```\n").append(classifyDemo).append("```\n\n");
        md.append("## Plots\n\n");
        for (String p : plots) md.append("![").append(p).append("](").append(p).append(")\n");
        AtomicFiles.writeString(run.resolve("report.md"), md.toString());
    }

    private static void plot(Path run, String name, String title, List<Double> x, List<Double> y, List<String> plots) throws IOException {
        XYChart chart = new XYChartBuilder().width(640).height(360).title(title).xAxisTitle("step").build();
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setMarkerSize(x.size() > 50 ? 0 : 5);
        chart.addSeries(name, x, y);
        String file = name + ".png";
        AtomicFiles.write(run.resolve(file), out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
        plots.add(file);
    }
}
