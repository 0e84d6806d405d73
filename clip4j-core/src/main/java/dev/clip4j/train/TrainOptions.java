package dev.clip4j.train;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.clip4j.InputException;

import java.time.Duration;

/**
 * Everything that defines a training run (saved with its checkpoints, so {@code --resume} continues the same run).
 * Build with {@link #builder()}; every field has the default of the CLI.
 *
 * @param pretrain          multimodal pretraining's options ({@code ./clip4j pretrain}); null for CLIP training
 * @param timeBudgetSeconds 0 for none; with a budget and no epochs the schedule spans the steps the budget allows,
 *                          estimated from the first steps' speed
 */
public record TrainOptions(
        String data,
        String arch,
        String init,
        int epochs,
        long timeBudgetSeconds,
        int batchSize,
        int microBatch,
        double lr,
        int warmupSteps,
        double weightDecay,
        double clipNorm,
        long seed,
        int checkpointEvery,
        boolean lockImage,
        boolean lockText,
        boolean bf16,
        boolean augment,
        String evalData,
        int evalEvery,
        int loaderThreads,
        String loss,
        String temperature,
        double simclrWeight,
        int simclrHidden,
        dev.clip4j.pretrain.PretrainOptions pretrain) {

    /** The temperature is CLIP's learned {@code logit_scale} (init 0.07, clamped at 100). */
    public static final String TEMPERATURE_LEARNED = "learned";

    /** {@code fixed:T}'s T, or NaN for a learned temperature. */
    public double fixedTemperature() {
        if (temperature.equals(TEMPERATURE_LEARNED)) return Double.NaN;
        return Double.parseDouble(temperature.substring("fixed:".length()));
    }

    /** CLIP's symmetric InfoNCE over the diagonal (the default). */
    public static final String LOSS_INFONCE = "infonce";
    /** Same-label (or same-caption) pairs are positives too ({@link MultiPositiveLoss}). */
    public static final String LOSS_MULTI_POSITIVE = "multi-positive";
    /** SigLIP's pairwise sigmoid loss with a learnable bias ({@link SigLipLoss}). */
    public static final String LOSS_SIGLIP = "siglip";
    /** FILIP's token-wise late interaction under symmetric InfoNCE ({@link FilipLoss}); the model then scores token-wise. */
    public static final String LOSS_FILIP = "filip";
    public static final java.util.List<String> LOSSES = java.util.List.of(LOSS_INFONCE, LOSS_MULTI_POSITIVE, LOSS_SIGLIP, LOSS_FILIP);

    /** Version of the saved form ({@code trainer.json}); older files lack the field and read as version 1. */
    public static final int VERSION = 3;
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    @JsonProperty("version")
    public int version() {
        return VERSION;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** The saved form, as JSON text (to hand the options to another process, e.g. a Spark task). */
    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The options from {@link #toJson}'s text. */
    public static TrainOptions fromJson(String json) {
        try {
            return fromJson(JSON.readTree(json));
        } catch (java.io.IOException e) {
            throw new InputException("not training options: " + e.getMessage());
        }
    }

    /** Reads the saved form; fields a newer clip4j added take their defaults. */
    static TrainOptions fromJson(JsonNode node) throws java.io.IOException {
        if (node == null || !node.isObject()) throw new InputException("trainer.json holds no options");
        int version = node.path("version").asInt(1);
        if (version > VERSION) {
            throw new InputException("the run was written by a newer clip4j (options version " + version + ", this one reads "
                    + VERSION + ")");
        }
        ObjectNode merged = JSON.valueToTree(builder().build());
        node.fields().forEachRemaining(e -> merged.set(e.getKey(), e.getValue()));
        merged.remove("version");
        return JSON.treeToValue(merged, TrainOptions.class);
    }

    /** Every numeric option finite and in range; the message names the option as this record does. */
    public TrainOptions validate() {
        if (data == null || data.isBlank()) throw new InputException("training needs a dataset (data)");
        if (batchSize < 2) throw new InputException("batchSize must be at least 2 (the contrastive loss needs negatives), got " + batchSize);
        if (microBatch < 0) throw new InputException("microBatch must be 0 (off) or positive, got " + microBatch);
        if (epochs < 0) throw new InputException("epochs must be 0 (until the time budget) or positive, got " + epochs);
        if (timeBudgetSeconds < 0) throw new InputException("timeBudget must be positive, got " + timeBudgetSeconds + "s");
        if (epochs == 0 && timeBudgetSeconds == 0) throw new InputException("give a number of epochs or a time budget");
        finite("lr", lr, false);
        if (lr <= 0) throw new InputException("lr must be positive, got " + lr);
        finite("weightDecay", weightDecay, true);
        finite("clipNorm", clipNorm, true);
        if (warmupSteps < 0) throw new InputException("warmup must be 0 or more steps, got " + warmupSteps);
        if (checkpointEvery < 0) throw new InputException("checkpointEvery must be 0 (only at the end) or positive, got " + checkpointEvery);
        if (evalEvery < 0) throw new InputException("evalEvery must be 0 (off) or positive, got " + evalEvery);
        if (loaderThreads < 1 || loaderThreads > 64) throw new InputException("loaderThreads must be 1..64, got " + loaderThreads);
        if (lockImage && lockText) throw new InputException("locking both towers leaves nothing to train");
        if (pretrain != null) pretrain.validate(batchSize, microBatch);
        if (!LOSSES.contains(loss)) throw new InputException("loss must be one of " + String.join(", ", LOSSES) + ", got " + loss);
        finite("simclrWeight", simclrWeight, true);
        if (simclrHidden < 1 || simclrHidden > 65536) throw new InputException("simclrHidden must be 1..65536, got " + simclrHidden);
        if (simclrWeight > 0 && microBatch > 0) {
            throw new InputException("SimCLR pairs (simclrWeight > 0) cannot be computed in micro-batches: its batch norms and"
                    + " NT-Xent need the whole batch; use a smaller batch instead");
        }
        if (!temperature.equals(TEMPERATURE_LEARNED)) {
            double t;
            try {
                t = temperature.startsWith("fixed:") ? Double.parseDouble(temperature.substring(6)) : Double.NaN;
            } catch (NumberFormatException e) {
                t = Double.NaN;
            }
            // exp(logit_scale) is capped at 100 (as CLIP's), so a fixed temperature below 0.01 could not hold
            if (!(t >= 0.01 && t <= 100)) {
                throw new InputException("temperature must be 'learned' or 'fixed:T' with 0.01 ≤ T ≤ 100, got " + temperature);
            }
        }
        return this;
    }

    private static void finite(String name, double v, boolean zeroAllowed) {
        if (!Double.isFinite(v) || v < 0 || (!zeroAllowed && v == 0)) {
            throw new InputException(name + " must be a finite number " + (zeroAllowed ? "≥ 0" : "> 0") + ", got " + v);
        }
    }

    public static long parseDuration(String s) {
        String t = s.trim().toLowerCase(java.util.Locale.ROOT);
        long seconds;
        try {
            if (t.endsWith("h")) seconds = Long.parseLong(t.substring(0, t.length() - 1)) * 3600;
            else if (t.endsWith("m")) seconds = Long.parseLong(t.substring(0, t.length() - 1)) * 60;
            else if (t.endsWith("s")) seconds = Long.parseLong(t.substring(0, t.length() - 1));
            else if (t.startsWith("p")) seconds = Duration.parse(s).getSeconds();
            else seconds = Long.parseLong(t);
        } catch (RuntimeException e) {
            throw new InputException("bad duration '" + s + "' (use e.g. 90s, 10m, 2h)");
        }
        if (seconds <= 0) throw new InputException("a duration must be positive, got '" + s + "'");
        return seconds;
    }

    /** Options with defaults (those of {@code ./clip4j train}). */
    public static final class Builder {
        private String data, arch = "tiny-vit", init, evalData, loss = LOSS_INFONCE, temperature = TEMPERATURE_LEARNED;
        private int epochs, batchSize = 256, microBatch, warmupSteps = 100, checkpointEvery = 200, evalEvery, loaderThreads = 1;
        private long timeBudgetSeconds, seed;
        private double lr = 1e-3, weightDecay = 0.2, clipNorm = 1.0, simclrWeight;
        private int simclrHidden = 4096;
        private dev.clip4j.pretrain.PretrainOptions pretrain;
        private boolean lockImage, lockText, bf16, augment = true;

        private Builder() {}

        private Builder(TrainOptions o) {
            data = o.data; arch = o.arch; init = o.init; epochs = o.epochs; timeBudgetSeconds = o.timeBudgetSeconds;
            batchSize = o.batchSize; microBatch = o.microBatch; lr = o.lr; warmupSteps = o.warmupSteps;
            weightDecay = o.weightDecay; clipNorm = o.clipNorm; seed = o.seed; checkpointEvery = o.checkpointEvery;
            lockImage = o.lockImage; lockText = o.lockText; bf16 = o.bf16; augment = o.augment; evalData = o.evalData;
            evalEvery = o.evalEvery; loaderThreads = o.loaderThreads; loss = o.loss;
            temperature = o.temperature; simclrWeight = o.simclrWeight; simclrHidden = o.simclrHidden;
            pretrain = o.pretrain;
        }

        public Builder data(String v) { data = v; return this; }
        public Builder arch(String v) { arch = v; return this; }
        public Builder init(String v) { init = v; return this; }
        public Builder epochs(int v) { epochs = v; return this; }
        public Builder timeBudgetSeconds(long v) { timeBudgetSeconds = v; return this; }
        public Builder batchSize(int v) { batchSize = v; return this; }
        public Builder microBatch(int v) { microBatch = v; return this; }
        public Builder lr(double v) { lr = v; return this; }
        public Builder warmupSteps(int v) { warmupSteps = v; return this; }
        public Builder weightDecay(double v) { weightDecay = v; return this; }
        public Builder clipNorm(double v) { clipNorm = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder checkpointEvery(int v) { checkpointEvery = v; return this; }
        public Builder lockImage(boolean v) { lockImage = v; return this; }
        public Builder lockText(boolean v) { lockText = v; return this; }
        public Builder bf16(boolean v) { bf16 = v; return this; }
        public Builder augment(boolean v) { augment = v; return this; }
        public Builder evalData(String v) { evalData = v; return this; }
        public Builder evalEvery(int v) { evalEvery = v; return this; }
        public Builder loaderThreads(int v) { loaderThreads = v; return this; }
        public Builder loss(String v) { loss = v; return this; }
        public Builder temperature(String v) { temperature = v; return this; }
        public Builder simclrWeight(double v) { simclrWeight = v; return this; }
        public Builder simclrHidden(int v) { simclrHidden = v; return this; }
        public Builder pretrain(dev.clip4j.pretrain.PretrainOptions v) { pretrain = v; return this; }

        public TrainOptions build() {
            return new TrainOptions(data, arch, init, epochs, timeBudgetSeconds, batchSize, microBatch, lr, warmupSteps,
                    weightDecay, clipNorm, seed, checkpointEvery, lockImage, lockText, bf16, augment, evalData, evalEvery,
                    loaderThreads, loss, temperature, simclrWeight, simclrHidden, pretrain);
        }
    }
}
