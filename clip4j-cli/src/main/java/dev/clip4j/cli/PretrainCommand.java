package dev.clip4j.cli;

import dev.clip4j.pretrain.PretrainArchitectures;
import dev.clip4j.pretrain.PretrainOptions;
import dev.clip4j.train.TrainOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;

@Command(name = "pretrain", description = "Multimodal pretraining: a fusion model (ALBEF: ITA with momentum distillation, "
        + "ITM, MLM; its unimodal encoders then work with embed, classify, index and eval) or a single-stream model (the "
        + "seed's: ITM, MLM, MFM over images or precomputed frame features).")
final class PretrainCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin TrainingFlags flags;

    @Option(names = "--model-type", defaultValue = "fusion", description = "fusion (ALBEF-style: image encoder, text encoder, "
            + "fusion encoder with cross-attention; default) or single-stream (one encoder over [CLS] + visual tokens + [SEP] + "
            + "text).") String modelType;
    @Option(names = "--arch", description = "fusion-tiny (the fusion default: tiny-vit's towers, 2 text + 2 fusion layers), "
            + "albef-base (ALBEF's shapes), single-stream-tiny (the single-stream default), a CLIP arch name or a config "
            + "JSON (its text tower becomes bidirectional, with a [MASK] id).") String arch;
    @Option(names = "--fusion-layers", description = "Fusion encoder layers (default: the arch's, 2 for CLIP archs).") Integer fusionLayers;
    @Option(names = "--tasks", description = "fusion: any of ita, itm, mlm (default all three); single-stream: any of itm, "
            + "mlm, mfm (default all three; mfm needs frame features).") String tasks;
    @Option(names = "--task-weights", description = "Weights in the total loss, e.g. ita=1,itm=1,mlm=0.5 (default 1 each).") String taskWeights;
    @Option(names = "--itm-negatives", description = "hard (ALBEF: drawn from the in-batch similarity softmax; the fusion "
            + "default) or shuffle (the seed's: second half of the batch reversed, its two bugs fixed; the single-stream "
            + "model's only choice).") String itmNegatives;
    @Option(names = "--queue-size", defaultValue = "4096", description = "ITA's queues of momentum features (0: in-batch only; "
            + "ALBEF uses 65536).") int queueSize;
    @Option(names = "--momentum", defaultValue = "0.995", description = "EMA factor of the momentum encoders.") double momentum;
    @Option(names = "--alpha", defaultValue = "0.4", description = "Distillation weight (ramped up over the first epoch; 0: off).") double alpha;
    @Option(names = "--mlm-probability", defaultValue = "0.15", description = "Share of text tokens MLM chooses.") double mlmProbability;
    @Option(names = "--mfm-probability", defaultValue = "0.15", description = "MFM's p: valid frames are masked with 0.9·p, "
            + "as the seed.") double mfmProbability;

    @Override
    public Integer call() throws Exception {
        Map<String, Function<TrainOptions, Object>> fixed = new LinkedHashMap<>();
        fixed.put("--model-type", o -> o.pretrain().modelType());
        fixed.put("--fusion-layers", o -> o.pretrain().fusionLayers());
        fixed.put("--tasks", o -> o.pretrain().tasks());
        fixed.put("--task-weights", o -> o.pretrain().taskWeights());
        fixed.put("--itm-negatives", o -> o.pretrain().itmNegatives());
        fixed.put("--queue-size", o -> o.pretrain().queueSize());
        fixed.put("--momentum", o -> o.pretrain().momentum());
        fixed.put("--alpha", o -> o.pretrain().alpha());
        fixed.put("--mlm-probability", o -> o.pretrain().mlmProbability());
        fixed.put("--mfm-probability", o -> o.pretrain().mfmProbability());
        return flags.runAndReport(flags.open(spec, given(), fixed));
    }

    private TrainOptions given() {
        boolean single = modelType.equals(PretrainOptions.SINGLE_STREAM);
        if (!single && !modelType.equals(PretrainOptions.FUSION)) {
            throw new UserError("--model-type must be fusion or single-stream, got " + modelType);
        }
        PretrainOptions defaults = PretrainOptions.defaults(modelType);
        String a = arch != null ? arch : single ? "single-stream-tiny" : PretrainArchitectures.DEFAULT;
        int layers = single ? 0 : fusionLayers != null ? fusionLayers : flags.resume ? 0 : PretrainArchitectures.resolve(a).fusionLayers();
        if (single && fusionLayers != null) throw new UserError("--fusion-layers is for the fusion model; the single-stream model has none");
        PretrainOptions p = new PretrainOptions(modelType, tasks == null ? defaults.tasks() : PretrainOptions.parseTasks(tasks),
                PretrainOptions.parseWeights(taskWeights), itmNegatives == null ? defaults.itmNegatives() : itmNegatives,
                single ? 0 : queueSize, momentum, alpha, mlmProbability, mfmProbability, layers);
        return flags.given().arch(a).pretrain(p).build();
    }
}
