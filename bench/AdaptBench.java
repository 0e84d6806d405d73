import dev.clip4j.adapt.Adaptation;
import dev.clip4j.adapt.Adapter;
import dev.clip4j.adapt.ClassSplit;
import dev.clip4j.adapt.CoCoOp;
import dev.clip4j.adapt.CoOp;
import dev.clip4j.adapt.ClassPosition;
import dev.clip4j.adapt.TipAdapter;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.data.Datasets;
import dev.clip4j.data.ImageTextDataset;
import dev.clip4j.eval.FeatureExtractor;
import dev.clip4j.eval.Similarity;
import dev.clip4j.eval.ZeroShot;
import dev.clip4j.model.ClipModel;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The few-shot benchmark (issue 9): zero-shot, CoOp, CoCoOp, Tip-Adapter, Tip-Adapter-F and the linear probe at
 * 1/2/4/8/16 shots over seeds, then base-to-new (CoOp and CoCoOp trained on base classes, scored on base and new).
 * The test split's image features are computed once; every adapter is trained through the same code as the CLI.
 * Args: MODEL TRAIN_DATA TEST_DATA OUT_DIR [SHOTS=1,2,4,8,16] [SEEDS=1,2,3] [BASE_TO_NEW=coop-ctxv1,cocoop]. SHOTS
 * "b2n:K" runs only base-to-new at K shots. Base-to-new variants: coop (16 random context vectors, the CoOp paper's
 * few-shot recipe), coop-ctxv1 ("a photo of a", 200 epochs at batch 32: the CoOp run CoCoOp's paper compares with,
 * {@code vit_b16_ctxv1}), cocoop; a "+aug" suffix trains on a new augmented view of every shot each epoch (the
 * reference's loader) instead of cached features. Writes OUT_DIR/results.jsonl, OUT_DIR/table.md and
 * OUT_DIR/few_shot.png.
 */
public class AdaptBench {
    static final List<String> METHODS = List.of("coop", "cocoop", "tip-adapter", "tip-adapter-f", "linear-probe");

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]), out = Path.of(args[3]);
        String trainSpec = args[1], testSpec = args[2];
        String shotsArg = args.length > 4 ? args[4] : "1,2,4,8,16";
        boolean sweep = !shotsArg.startsWith("b2n:");
        int[] shotsList = parse(sweep ? shotsArg : shotsArg.substring(4));
        int[] seeds = parse(args.length > 5 ? args[5] : "1,2,3");
        List<String> b2nVariants = List.of((args.length > 6 ? args[6] : "coop-ctxv1,cocoop").split(","));
        Files.createDirectories(out);
        PrintStream log = new PrintStream(Files.newOutputStream(out.resolve("adapt.log")), true);
        PrintStream results = new PrintStream(Files.newOutputStream(out.resolve("results.jsonl")), true);
        ClipModel clip = ClipCheckpoint.loadModel(model).train(false);
        ImageTextDataset test = Datasets.open(testSpec);
        int[] labels = new int[test.size()];
        float[][] features = FeatureExtractor.images(clip, test, 500, labels);
        List<String> classes = test.classNames();
        double zeroShot = top1(Similarity.scores(features, ZeroShot.classEmbeddings(clip, synonyms(test), test.templates())), labels);
        emit(results, "zero-shot", 0, 0, "all", "all", zeroShot, 0);
        Map<String, Map<Integer, List<Double>>> acc = new LinkedHashMap<>();
        Map<String, Map<Integer, List<Double>>> secs = new LinkedHashMap<>();
        for (int k : sweep ? shotsList : new int[0]) {
            for (int seed : seeds) {
                for (String m : METHODS) {
                    Path dir = out.resolve(m + "-" + k + "shot-seed" + seed);
                    DataFilesUtil.delete(dir);
                    Adaptation a = Adaptation.prepare(model, trainSpec, k, ClassSplit.ALL, seed, dir);
                    Map<String, Object> summary = run(a, m, k, seed, log);
                    double t = ((Number) summary.get("seconds")).doubleValue();
                    double top1 = top1(Adapter.load(dir).scores(features, classes), labels);
                    emit(results, m, k, seed, "all", "all", top1, t);
                    acc.computeIfAbsent(m, x -> new LinkedHashMap<>()).computeIfAbsent(k, x -> new ArrayList<>()).add(top1);
                    secs.computeIfAbsent(m, x -> new LinkedHashMap<>()).computeIfAbsent(k, x -> new ArrayList<>()).add(t);
                }
            }
        }
        // base-to-new at the largest shot count: trained on base classes, scored on the base and new test classes
        int k = shotsList[shotsList.length - 1];
        List<Integer> base = ClassSplit.BASE.classes(classes.size()), fresh = ClassSplit.NEW.classes(classes.size());
        Map<String, double[][]> b2n = new LinkedHashMap<>();
        double[][] zs = new double[seeds.length][3];
        for (int s = 0; s < seeds.length; s++) {
            zs[s][0] = subsetTop1(Similarity.scores(features, ZeroShot.classEmbeddings(clip, synonyms(test), test.templates())), labels, base);
            zs[s][1] = subsetTop1(Similarity.scores(features, ZeroShot.classEmbeddings(clip, synonyms(test), test.templates())), labels, fresh);
        }
        b2n.put("zero-shot", zs);
        for (String m : b2nVariants) {
            double[][] r = new double[seeds.length][3];
            for (int s = 0; s < seeds.length; s++) {
                Path dir = out.resolve(m + "-base-" + k + "shot-seed" + seeds[s]);
                DataFilesUtil.delete(dir);
                Map<String, Object> summary = run(Adaptation.prepare(model, trainSpec, k, ClassSplit.BASE, seeds[s], dir), m, k, seeds[s], log);
                r[s][2] = ((Number) summary.get("seconds")).doubleValue();
                Adapter ad = Adapter.load(dir);
                r[s][0] = subsetTop1(ad, features, labels, classes, base);
                r[s][1] = subsetTop1(ad, features, labels, classes, fresh);
                emit(results, m, k, seeds[s], "base", "base", r[s][0], r[s][2]);
                emit(results, m, k, seeds[s], "base", "new", r[s][1], r[s][2]);
            }
            b2n.put(m, r);
        }
        writeTable(out, testSpec, zeroShot, sweep ? shotsList : new int[0], acc, secs, b2n, k);
        if (sweep) plot(out.resolve("few_shot.png"), testSpec, zeroShot, shotsList, acc);
    }

    static Map<String, Object> run(Adaptation a, String variant, int k, int seed, PrintStream log) throws Exception {
        boolean aug = variant.endsWith("+aug");
        String m = aug ? variant.substring(0, variant.length() - 4) : variant;
        return switch (m) {
            case "coop" -> a.coop(CoOp.Settings.paper(k, 16, null, false, ClassPosition.END, 0, seed, aug), log);
            case "coop-ctxv1" -> a.coop(CoOp.Settings.paper(k, 4, "a photo of a", false, ClassPosition.END, 200, seed, aug), log);
            case "cocoop" -> a.cocoop(CoCoOp.Settings.paper("a photo of a", 4, 0, 0, seed, aug), log);
            case "tip-adapter" -> a.tipAdapter(TipAdapter.Settings.paper(false, seed), log);
            case "tip-adapter-f" -> a.tipAdapter(TipAdapter.Settings.paper(true, seed), log);
            case "linear-probe" -> a.linearProbe(log);
            default -> throw new IllegalArgumentException("unknown method " + variant);
        };
    }

    static List<List<String>> synonyms(ImageTextDataset d) {
        return d instanceof dev.clip4j.data.ClassLabelledDataset c ? c.synonyms() : d.classNames().stream().map(List::of).toList();
    }

    static double top1(float[][] scores, int[] labels) {
        int correct = 0;
        for (int i = 0; i < scores.length; i++) if (argmax(scores[i], null) == labels[i]) correct++;
        return (double) correct / scores.length;
    }

    /** Top-1 among only the given classes, over the test images of those classes. */
    static double subsetTop1(float[][] scores, int[] labels, List<Integer> subset) {
        int correct = 0, n = 0;
        for (int i = 0; i < scores.length; i++) {
            if (!subset.contains(labels[i])) continue;
            n++;
            if (argmax(scores[i], subset) == labels[i]) correct++;
        }
        return (double) correct / n;
    }

    static double subsetTop1(Adapter a, float[][] features, int[] labels, List<String> classes, List<Integer> subset) {
        List<float[]> f = new ArrayList<>();
        List<Integer> y = new ArrayList<>();
        for (int i = 0; i < features.length; i++) {
            int at = subset.indexOf(labels[i]);
            if (at >= 0) {
                f.add(features[i]);
                y.add(at);
            }
        }
        float[][] s = a.scores(f.toArray(new float[0][]), subset.stream().map(classes::get).toList());
        int correct = 0;
        for (int i = 0; i < s.length; i++) if (argmax(s[i], null) == y.get(i)) correct++;
        return (double) correct / s.length;
    }

    static int argmax(float[] row, List<Integer> among) {
        int best = -1;
        for (int c = 0; c < row.length; c++) {
            if (among != null && !among.contains(c)) continue;
            if (best < 0 || row[c] > row[best]) best = c;
        }
        return best;
    }

    static void emit(PrintStream out, String method, int shots, int seed, String trainClasses, String testClasses, double top1, double seconds) {
        out.printf(Locale.ROOT, "{\"method\": \"%s\", \"shots\": %d, \"seed\": %d, \"train_classes\": \"%s\", \"test_classes\": \"%s\", "
                + "\"top1\": %.4f, \"seconds\": %.1f}%n", method, shots, seed, trainClasses, testClasses, top1, seconds);
        System.out.printf(Locale.ROOT, "%s %d-shot seed %d (%s -> %s): %.4f in %.1f s%n", method, shots, seed, trainClasses, testClasses, top1, seconds);
    }

    static double mean(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    static double std(List<Double> v) {
        double m = mean(v), s = 0;
        for (double x : v) s += (x - m) * (x - m);
        return v.size() < 2 ? 0 : Math.sqrt(s / (v.size() - 1));
    }

    static void writeTable(Path out, String test, double zeroShot, int[] shotsList, Map<String, Map<Integer, List<Double>>> acc,
                           Map<String, Map<Integer, List<Double>>> secs, Map<String, double[][]> b2n, int k) throws Exception {
        StringBuilder sb = new StringBuilder();
        if (shotsList.length > 0) {
            sb.append("| method (" + test + ") |");
            for (int s : shotsList) sb.append(" ").append(s).append(" shot").append(s == 1 ? "" : "s").append(" |");
            sb.append(" seconds at ").append(shotsList[shotsList.length - 1]).append(" shots |\n|---|");
            for (int s : shotsList) sb.append("---|");
            sb.append("---|\n| zero-shot |");
            for (int s : shotsList) sb.append(String.format(Locale.ROOT, " %.1f |", 100 * zeroShot));
            sb.append(" 0 |\n");
            for (String m : acc.keySet()) {
                sb.append("| ").append(m).append(" |");
                for (int s : shotsList) {
                    List<Double> v = acc.get(m).get(s);
                    sb.append(String.format(Locale.ROOT, " %.1f ± %.1f |", 100 * mean(v), 100 * std(v)));
                }
                sb.append(String.format(Locale.ROOT, " %.1f |%n", mean(secs.get(m).get(shotsList[shotsList.length - 1]))));
            }
        }
        sb.append("\n| base-to-new (").append(k).append(" shots, ").append(test).append(") | base | new | harmonic mean | seconds |\n|---|---|---|---|---|\n");
        for (Map.Entry<String, double[][]> e : b2n.entrySet()) {
            List<Double> base = new ArrayList<>(), fresh = new ArrayList<>(), h = new ArrayList<>(), t = new ArrayList<>();
            for (double[] r : e.getValue()) {
                base.add(r[0]);
                fresh.add(r[1]);
                h.add(2 * r[0] * r[1] / (r[0] + r[1]));
                t.add(r[2]);
            }
            sb.append(String.format(Locale.ROOT, "| %s | %.1f ± %.1f | %.1f ± %.1f | %.1f ± %.1f | %.1f |%n", e.getKey(), 100 * mean(base),
                    100 * std(base), 100 * mean(fresh), 100 * std(fresh), 100 * mean(h), 100 * std(h), mean(t)));
        }
        Files.writeString(out.resolve("table.md"), sb.toString());
        System.out.print(sb);
    }

    static void plot(Path png, String test, double zeroShot, int[] shotsList, Map<String, Map<Integer, List<Double>>> acc) throws Exception {
        XYChart chart = new XYChartBuilder().width(720).height(480).title("Few-shot top-1 on " + test)
                .xAxisTitle("shots per class").yAxisTitle("top-1 (%)").build();
        double[] x = new double[shotsList.length];
        for (int i = 0; i < x.length; i++) x[i] = shotsList[i];
        double[] zs = new double[x.length];
        java.util.Arrays.fill(zs, 100 * zeroShot);
        chart.addSeries("zero-shot", x, zs);
        for (String m : acc.keySet()) {
            double[] y = new double[x.length], err = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                y[i] = 100 * mean(acc.get(m).get(shotsList[i]));
                err[i] = 100 * std(acc.get(m).get(shotsList[i]));
            }
            chart.addSeries(m, x, y, err);
        }
        chart.getStyler().setXAxisLogarithmic(true);
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    static int[] parse(String s) {
        return java.util.Arrays.stream(s.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    /** Deletes an earlier run's adapter so the benchmark can be run again into the same folder. */
    static final class DataFilesUtil {
        static void delete(Path dir) throws Exception {
            dev.clip4j.data.DataFiles.deleteTree(dir);
        }
    }
}
