package dev.clip4j.pretrain;

import dev.clip4j.InputException;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a multimodal pretraining run adds to the training options ({@code TrainOptions.pretrain}; null for CLIP
 * training): the model type, the tasks and their weights, and the settings of ITM, ITA and the masking tasks.
 *
 * @param modelType       {@link #FUSION} (ALBEF: image encoder, text encoder, fusion encoder with cross-attention) or
 *                        {@link #SINGLE_STREAM} (one encoder over [CLS] + visual tokens + [SEP] + text)
 * @param tasks           a subset of {@link #TASKS}, in the order given
 * @param taskWeights     weight of each task in the total loss (1 when absent)
 * @param itmNegatives    {@link #HARD} (ALBEF's in-batch hard negatives) or {@link #SHUFFLE} (the seed's, fixed)
 * @param queueSize       ITA's queues of momentum features (0: in-batch only)
 * @param momentum        EMA factor m of the momentum encoders
 * @param alpha           distillation weight α (ramped up linearly over the first epoch, as ALBEF)
 * @param mlmProbability  p of MLM (MFM chooses valid frames with 0.9·p of its own probability)
 * @param mfmProbability  p of MFM
 * @param fusionLayers    layers of the fusion encoder (fusion model); the text encoder has the arch's text layers
 */
public record PretrainOptions(String modelType, List<String> tasks, Map<String, Double> taskWeights, String itmNegatives,
                              int queueSize, double momentum, double alpha, double mlmProbability, double mfmProbability,
                              int fusionLayers) {
    public static final String FUSION = "fusion", SINGLE_STREAM = "single-stream";
    public static final String ITA = "ita", ITM = "itm", MLM = "mlm", MFM = "mfm";
    public static final List<String> TASKS = List.of(ITA, ITM, MLM, MFM);
    public static final String HARD = "hard", SHUFFLE = "shuffle";
    /** ALBEF's learnable temperature: initial value and clamp. */
    public static final double TEMPERATURE_INIT = 0.07, TEMPERATURE_MIN = 0.001, TEMPERATURE_MAX = 0.5;

    public PretrainOptions {
        tasks = tasks == null ? List.of() : List.copyOf(tasks);
        taskWeights = taskWeights == null ? Map.of() : Map.copyOf(new LinkedHashMap<>(taskWeights));
    }

    public boolean has(String task) {
        return tasks.contains(task);
    }

    public double weight(String task) {
        return taskWeights.getOrDefault(task, 1.0);
    }

    /** Parses {@code ita,itm,mlm}. */
    public static List<String> parseTasks(String s) {
        List<String> out = new java.util.ArrayList<>();
        for (String t : s.split(",")) {
            String k = t.trim().toLowerCase(java.util.Locale.ROOT);
            if (k.isEmpty()) continue;
            if (!TASKS.contains(k)) throw new InputException("unknown task '" + k + "' (known: " + String.join(", ", TASKS) + ")");
            if (out.contains(k)) throw new InputException("task '" + k + "' is given twice");
            out.add(k);
        }
        if (out.isEmpty()) throw new InputException("give at least one task (" + String.join(", ", TASKS) + ")");
        return out;
    }

    /** Parses {@code ita=1,mlm=0.5}. */
    public static Map<String, Double> parseWeights(String s) {
        Map<String, Double> out = new LinkedHashMap<>();
        if (s == null || s.isBlank()) return out;
        for (String part : s.split(",")) {
            String[] kv = part.split("=", 2);
            String k = kv[0].trim().toLowerCase(java.util.Locale.ROOT);
            if (kv.length != 2 || !TASKS.contains(k)) {
                throw new InputException("bad task weight '" + part.trim() + "' (use e.g. ita=1,mlm=0.5 with tasks " + String.join(", ", TASKS) + ")");
            }
            double w;
            try {
                w = Double.parseDouble(kv[1].trim());
            } catch (NumberFormatException e) {
                throw new InputException("task weight '" + part.trim() + "' is not a number");
            }
            if (!Double.isFinite(w) || w < 0) throw new InputException("task weight of " + k + " must be a finite number ≥ 0, got " + kv[1].trim());
            out.put(k, w);
        }
        return out;
    }

    public PretrainOptions validate(int batchSize, int microBatch) {
        if (!modelType.equals(FUSION) && !modelType.equals(SINGLE_STREAM)) {
            throw new InputException("model type must be " + FUSION + " or " + SINGLE_STREAM + ", got " + modelType);
        }
        if (tasks.isEmpty()) throw new InputException("pretraining needs at least one task");
        for (String t : tasks) if (!TASKS.contains(t)) throw new InputException("unknown task '" + t + "'");
        for (String t : taskWeights.keySet()) {
            if (!tasks.contains(t)) throw new InputException("a weight is given for task '" + t + "', which is not in the tasks " + tasks);
        }
        if (modelType.equals(FUSION) && has(MFM)) {
            throw new InputException("mfm predicts frame features, a task of the single-stream model; the fusion model takes ita, itm, mlm");
        }
        if (modelType.equals(SINGLE_STREAM) && has(ITA)) {
            throw new InputException("ita aligns two unimodal encoders, which the single-stream model does not have; it takes itm, mlm, mfm");
        }
        if (!itmNegatives.equals(HARD) && !itmNegatives.equals(SHUFFLE)) {
            throw new InputException("ITM negatives must be " + HARD + " or " + SHUFFLE + ", got " + itmNegatives);
        }
        if (queueSize < 0 || queueSize > 1 << 20) throw new InputException("queue size must be 0..1048576, got " + queueSize);
        if (!(momentum >= 0 && momentum < 1)) throw new InputException("momentum must be in [0, 1), got " + momentum);
        if (!(alpha >= 0 && alpha <= 1)) throw new InputException("alpha must be in [0, 1], got " + alpha);
        if (!(mlmProbability > 0 && mlmProbability < 1)) throw new InputException("MLM probability must be in (0, 1), got " + mlmProbability);
        if (!(mfmProbability > 0 && mfmProbability < 1)) throw new InputException("MFM probability must be in (0, 1), got " + mfmProbability);
        if (modelType.equals(SINGLE_STREAM) && !itmNegatives.equals(SHUFFLE) && has(ITM)) {
            throw new InputException("the single-stream model has no unimodal features to draw hard ITM negatives from; use shuffle");
        }
        if (modelType.equals(FUSION) && (fusionLayers < 1 || fusionLayers > 64)) {
            throw new InputException("fusion layers must be 1..64, got " + fusionLayers);
        }
        if (microBatch > 0) {
            throw new InputException("pretraining computes the whole batch at once (ITM's negatives and the MLM/MFM NCE span it); "
                    + "micro-batches are not supported, use a smaller batch");
        }
        if (has(ITM) && itmNegatives.equals(SHUFFLE) && batchSize < 4) {
            throw new InputException("the seed's shuffle makes negatives only from the reversed second half; use a batch of at least 4");
        }
        return this;
    }

    /** Defaults of {@code ./clip4j pretrain}. */
    public static PretrainOptions defaults(String modelType) {
        boolean single = modelType.equals(SINGLE_STREAM);
        List<String> tasks = single ? List.of(ITM, MLM, MFM) : List.of(ITA, ITM, MLM);
        return new PretrainOptions(modelType, tasks, Map.of(), single ? SHUFFLE : HARD, single ? 0 : 4096, 0.995, 0.4, 0.15, 0.15,
                single ? 0 : 2);
    }
}
