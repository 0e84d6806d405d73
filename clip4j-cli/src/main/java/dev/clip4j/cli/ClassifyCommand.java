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

@Command(name = "classify", description = "Zero-shot classification: softmax over logit_scale.exp() * cosine(image, prompt).")
final class ClassifyCommand implements Callable<Integer> {
    @Mixin
    CommonOptions.Model model;

    @Option(names = "--labels", required = true, description = "Comma-separated class names.")
    String labels;

    @Option(names = "--template", defaultValue = "{}", description = "Prompt template, {} is the label (default: the label alone).")
    String template;

    @Mixin
    CommonOptions.Threads threads;

    @Mixin
    CommonOptions.InferencePrecision precision;

    @Option(names = "--json", description = "One JSON object per image instead of text.")
    boolean json;

    @Parameters(arity = "1..*", paramLabel = "IMAGE", description = "Images to classify.")
    List<Path> images = new ArrayList<>();

    @Override
    public Integer call() {
        List<String> names = Arrays.stream(labels.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        if (names.size() < 2) throw new UserError("--labels needs at least two comma-separated labels");
        threads.apply();
        Clip clip = Clip.load(model.model, precision.get());
        float[][] probs = clip.classify(images, Clip.prompts(template, names));
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
