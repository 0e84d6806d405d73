package dev.clip4j.cli;

import dev.clip4j.train.TrainOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;

@Command(name = "train", description = "Train or fine-tune CLIP (symmetric InfoNCE by default; --loss for the others).")
final class TrainCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin TrainingFlags flags;

    @Option(names = "--arch", defaultValue = "tiny-vit", description = "Architecture name or config JSON (default ${DEFAULT-VALUE}).")
    String arch;

    @Option(names = "--loss", defaultValue = "infonce", description = "infonce (CLIP's, default), multi-positive "
            + "(same-label or same-caption pairs are positives too), siglip (pairwise sigmoid with a learned bias) or filip "
            + "(token-wise late interaction; the model then scores token-wise in eval and classify).") String loss;
    @Option(names = "--temperature", defaultValue = "learned", description = "learned (CLIP's logit_scale, init 0.07, "
            + "default) or fixed:T (e.g. fixed:0.05; logit_scale = ln(1/T), not trained).") String temperature;
    @Option(names = "--simclr-weight", defaultValue = "0", description = "Adds SimCLR's NT-Xent over two augmented views of each "
            + "image through an MLP head, with this weight (0: off).") double simclrWeight;
    @Option(names = "--simclr-hidden", defaultValue = "4096", description = "Hidden width of the SimCLR head (4096 for ViT-B; "
            + "smaller for small towers).") int simclrHidden;

    @Override
    public Integer call() throws Exception {
        Map<String, Function<TrainOptions, Object>> fixed = new LinkedHashMap<>();
        fixed.put("--loss", TrainOptions::loss);
        fixed.put("--temperature", TrainOptions::temperature);
        fixed.put("--simclr-weight", TrainOptions::simclrWeight);
        fixed.put("--simclr-hidden", TrainOptions::simclrHidden);
        return flags.runAndReport(flags.open(spec, given(), fixed));
    }

    private TrainOptions given() {
        return flags.given().arch(arch).loss(loss).temperature(temperature).simclrWeight(simclrWeight).simclrHidden(simclrHidden).build();
    }
}
