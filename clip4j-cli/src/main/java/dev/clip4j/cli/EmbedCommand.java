package dev.clip4j.cli;

import dev.clip4j.Clip;
import dev.clip4j.io.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "embed", description = "Write image and text features (encode_image / encode_text) as JSON.")
final class EmbedCommand implements Callable<Integer> {
    @Mixin
    CommonOptions.Model model;

    @Option(names = "--image", description = "Image file (repeatable).")
    List<Path> images = new ArrayList<>();

    @Option(names = "--text", description = "Text (repeatable).")
    List<String> texts = new ArrayList<>();

    @Option(names = "--normalize", description = "L2-normalise the features.")
    boolean normalize;

    @Mixin
    CommonOptions.Threads threads;

    @Mixin
    CommonOptions.InferencePrecision precision;

    @Option(names = {"--batch-size", "--batch"}, defaultValue = "32", description = "Images or texts per forward pass (default ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--output", description = "Write the JSON here (atomically) instead of stdout.")
    Path output;

    @Override
    public Integer call() throws Exception {
        if (images.isEmpty() && texts.isEmpty()) throw new UserError("nothing to embed: give --image and/or --text");
        Options.batchSize(batch);
        threads.apply();
        Clip clip = Clip.load(model.model, precision.get());
        List<float[]> imageFeatures = new ArrayList<>();
        for (int i = 0; i < images.size(); i += batch) {
            dev.clip4j.io.StopSignal.check();
            imageFeatures.addAll(List.of(clip.encodeImages(images.subList(i, Math.min(images.size(), i + batch)), normalize)));
        }
        List<float[]> textFeatures = new ArrayList<>();
        for (int i = 0; i < texts.size(); i += batch) {
            dev.clip4j.io.StopSignal.check();
            textFeatures.addAll(List.of(clip.encodeTexts(texts.subList(i, Math.min(texts.size(), i + batch)), normalize)));
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("image_features", imageFeatures);
        result.put("text_features", textFeatures);
        String json = Json.write(result);
        if (output != null) AtomicFiles.writeString(output, json + "\n");
        else System.out.println(json);
        return 0;
    }
}
