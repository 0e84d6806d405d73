import dev.clip4j.Backend;
import dev.clip4j.Clip;
import dev.clip4j.Precision;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.model.ClipConfig;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Torch;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The text tower's speed on zero-shot prompts (issue 13): ViT-B/32's text tower (random weights, saved once under DIR),
 * 80 prompts "a photo of a thingN." (10 tokens each with start and end, as a zero-shot template gives) in one call, and
 * one prompt alone; best of 5 rounds after a warm-up. One JSON line, like bench/pytorch_text.py's.
 *   java -cp "$(ls clip4j-cli/target/lib/*.jar | tr '\n' :)" bench/TextBench.java DIR fp32|bf16|int8 torch|onnx THREADS
 */
public class TextBench {
    public static void main(String[] a) throws Exception {
        Path dir = Path.of(a[0]);
        Precision precision = Precision.explicit(a[1]);
        Backend backend = Backend.parse(a[2]);
        Torch.setThreads(Integer.parseInt(a[3]));
        Path model = dir.resolve("model-ViT-B-32");
        if (!Files.exists(model)) {
            Torch.manualSeed(0);
            ClipCheckpoint.save(ClipModel.create(ClipConfig.builtIn("ViT-B-32")), model);
        }
        Clip clip = Clip.load(model, precision, backend);
        List<String> prompts = new ArrayList<>();
        for (int i = 0; i < 80; i++) prompts.add("a photo of a thing" + i + ".");
        clip.encodeTexts(prompts.subList(0, 8), true);
        double many = Double.MAX_VALUE, one = Double.MAX_VALUE;
        for (int r = 0; r < 5; r++) {
            long t = System.nanoTime();
            clip.encodeTexts(prompts, true);
            many = Math.min(many, (System.nanoTime() - t) / 1e6);
            for (int i = 0; i < 5; i++) {
                t = System.nanoTime();
                clip.encodeTexts(List.of(prompts.get(i)), true);
                one = Math.min(one, (System.nanoTime() - t) / 1e6);
            }
        }
        System.out.printf("{\"peer\": \"clip4j\", \"precision\": \"%s\", \"backend\": \"%s\", \"threads\": %d, \"prompts_80_ms\": %.1f,"
                + " \"prompt_1_ms\": %.1f}%n", a[1], a[2], Torch.threads(), many, one);
    }
}
