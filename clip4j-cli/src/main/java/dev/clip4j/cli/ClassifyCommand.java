package dev.clip4j.cli;

import dev.clip4j.Clip;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "classify", description = "Zero-shot classification: softmax over logit_scale.exp() * cosine(image, prompt);"
        + " with --adapter, over an adapter's classes.")
final class ClassifyCommand implements Callable<Integer> {
    @Option(names = "--model", description = "Checkpoint file, model directory, or training run directory (with --adapter: "
            + "the model it adapts, if it moved).")
    Path model;

    @Option(names = "--labels", description = "Comma-separated class names (not with --adapter: its classes are used).")
    String labels;

    @Option(names = "--adapter", description = "An adapter directory from ./clip4j adapt: learned prompts or cache.")
    Path adapter;

    @Option(names = "--template", defaultValue = "{}", description = "Prompt template, {} is the label (default: the label alone).")
    String template;

    @Mixin
    CommonOptions.Threads threads;

    @Mixin
    CommonOptions.InferenceBackend backend;

    @Mixin
    CommonOptions.InferencePrecision precision;

    @Option(names = "--json", description = "One JSON object per image instead of text.")
    boolean json;

    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "Images to classify.")
    List<Path> images = new ArrayList<>();

    @Override
    public Integer call() {
        threads.apply();
        backend.apply(images.size(), precision);
        List<String> names;
        float[][] probs;
        if (adapter != null) {
            if (labels != null) throw new UserError("--labels cannot be given with --adapter (the adapter's classes are used)");
            // the adapter was trained on fp32 features: auto means fp32 here, and bf16 is refused
            if (!precision.precision.equals("fp32") && !precision.precision.equals("auto")) {
                throw new UserError("--adapter runs in fp32 (the precision it was trained in)");
            }
            dev.clip4j.adapt.Adapter a = dev.clip4j.adapt.Adapter.load(adapter, model);
            names = a.classNames();
            probs = a.classify(images);
        } else {
            if (model == null) throw new UserError("give --model (with --labels), or --adapter");
            if (labels == null) throw new UserError("--labels is required without --adapter");
            names = Arrays.stream(labels.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
            if (names.size() < 2) throw new UserError("--labels needs at least two comma-separated labels");
            Clip clip = Clip.load(model, precision.get(), dev.clip4j.Backend.current(), CommonOptions.onnxThreads(images.size(), names.size()));
            probs = clip.classify(images, Clip.prompts(template, names));
        }
        for (int i = 0; i < images.size(); i++) {
            int best = 0;
            for (int j = 1; j < names.size(); j++) if (probs[i][j] > probs[i][best]) best = j;
            if (json) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("image", images.get(i).toString());
                row.put("label", names.get(best));
                Map<String, Float> p = new LinkedHashMap<>();
                for (int j = 0; j < names.size(); j++) p.put(names.get(j), probs[i][j]);
                row.put("probs", p);
                System.out.println(Json.write(row));
            } else {
                StringBuilder sb = new StringBuilder(images.get(i) + ": " + names.get(best) + "\n");
                for (int j = 0; j < names.size(); j++) sb.append(String.format("  %-24s %.4f%n", names.get(j), probs[i][j]));
                System.out.print(sb);
            }
        }
        return 0;
    }
}
