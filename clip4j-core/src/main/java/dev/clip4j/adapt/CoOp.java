package dev.clip4j.adapt;

import dev.clip4j.eval.FeatureExtractor;
import dev.clip4j.image.RandomResizedCrop;
import dev.clip4j.io.StopSignal;
import dev.clip4j.model.ClipModel;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Scope;
import dev.clip4j.torch.Tensors;
import dev.clip4j.torch.Torch;
import dev.clip4j.train.Sgd;
import org.bytedeco.pytorch.Tensor;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * CoOp (Zhou et al., 2022): learn the prompt's context vectors with CLIP frozen. Logits are
 * {@code logit_scale.exp() · cos(image, prompt features)}, the loss cross-entropy over the classes. The recipe is the
 * paper's: SGD (momentum 0.9, weight decay 5e-4: Dassl's default), lr 0.002 with a cosine schedule after one warm-up
 * epoch at a constant 1e-5, batch 32 (the last, smaller batch dropped when there are at least 32 shots, as Dassl),
 * epochs by shots (50 for 1, 100 for 2–4, 200 for 8 or more). The frozen image tower's features are computed once
 * (CLIP's preprocessing, no augmentation) and reused every epoch.
 */
public final class CoOp {
    private CoOp() {}

    public record Settings(int nCtx, String ctxInit, boolean classSpecific, ClassPosition position, int epochs,
                           int batchSize, double lr, double momentum, double weightDecay, double warmupLr, long seed,
                           boolean augment) {
        /**
         * The paper's recipe for {@code shots} shots; {@code epochs} 0 picks the paper's count; {@code augment} draws a
         * new augmented view of every shot each epoch, as Dassl's loader does, instead of caching one plain feature.
         */
        public static Settings paper(int shots, int nCtx, String ctxInit, boolean classSpecific, ClassPosition position,
                                     int epochs, long seed, boolean augment) {
            return new Settings(nCtx, ctxInit, classSpecific, position, epochs > 0 ? epochs : epochsFor(shots), 32, 0.002,
                    0.9, 5e-4, 1e-5, seed, augment);
        }

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("n_ctx", nCtx);
            m.put("ctx_init", ctxInit);
            m.put("csc", classSpecific);
            m.put("class_position", position.id());
            m.put("epochs", epochs);
            m.put("batch_size", batchSize);
            m.put("lr", lr);
            m.put("momentum", momentum);
            m.put("weight_decay", weightDecay);
            m.put("warmup_lr", warmupLr);
            m.put("seed", seed);
            m.put("augment", augment);
            return m;
        }

        /** What {@code adapter.json} says of the image features the prompts were trained on. */
        public String imageFeatures() {
            return augment ? AUGMENTED : Adaptation.CACHED;
        }
    }

    /** The reference's training views (Dassl's {@code random_resized_crop} at its default scale, {@code random_flip}). */
    static final String AUGMENTED = "a new view of every shot each epoch: random resized crop 0.08-1, flip (Dassl's)";

    /** The paper's epochs: 50 for 1 shot, 100 for 2 to 4, 200 for 8 and more. */
    public static int epochsFor(int shots) {
        return shots <= 1 ? 50 : shots <= 4 ? 100 : 200;
    }

    /** Learning rate of epoch {@code e} (0-based): Dassl's constant warm-up, then cosine annealing over all epochs. */
    public static double learningRate(Settings s, int e) {
        if (e < 1) return s.warmupLr();
        return 0.5 * s.lr() * (1 + Math.cos(Math.PI * (e - 1) / s.epochs()));
    }

    public record Result(PromptLearner learner, double finalLoss, double trainAccuracy, double seconds) {}

    /** Trains prompts on {@code shots} (labels 0..n−1 naming {@code shots.classNames()}); CLIP is left untouched. */
    public static Result train(ClipModel clip, ClassSubset shots, Settings s, PrintStream log) {
        long start = System.nanoTime();
        Torch.manualSeed(s.seed());
        PromptLearner learner = new PromptLearner(clip, shots.classNames(), s.nCtx(), s.ctxInit(), s.classSpecific(), s.position());
        Sgd sgd = new Sgd(s.lr(), s.momentum(), s.weightDecay()).add(learner.ctx());
        double[] last = fit(clip, shots, s, sgd, img -> {
            Tensor txt = NN.l2Normalize(learner.classFeatures(clip));
            return clip.logitScale().mul(img.matmul(txt.t()));
        }, log, "coop");
        return new Result(learner, last[0], last[1], (System.nanoTime() - start) / 1e9);
    }

    /**
     * The prompt-learning loop CoOp and CoCoOp share, CLIP frozen: the shots' normalised features computed once (or,
     * with {@code s.augment()}, of a new seeded augmented view of every shot each epoch, as the reference's loader
     * gives: random resized crop at torchvision's default scale 0.08–1 and a horizontal flip), a seeded order per epoch, batches of {@code s.batchSize()} (Dassl drops the last, smaller batch), the learning
     * rate of {@link #learningRate} per epoch, cross-entropy of {@code logitsOf(image features)}, an SGD step. Returns
     * the last epoch's {mean loss, training accuracy}.
     */
    static double[] fit(ClipModel clip, ClassSubset shots, Settings s, Sgd sgd, java.util.function.UnaryOperator<Tensor> logitsOf,
                        PrintStream log, String method) {
        double[] last = {Double.NaN, Double.NaN};
        FrozenClip.run(clip, () -> {
            int[] labels = new int[shots.size()];
            float[][] features = s.augment() ? null : FeatureExtractor.images(clip, shots, 256, labels); // normalised
            RandomResizedCrop views = new RandomResizedCrop(clip.imageResolution(), 0.08, true);
            SplittableRandom rng = new SplittableRandom(s.seed());
            int n = shots.size(), per = Math.min(s.batchSize(), n);
            int batches = n >= s.batchSize() ? n / s.batchSize() : 1;
            AdaptProgress progress = new AdaptProgress(log, (long) s.epochs() * batches);
            long step = 0;
            for (int e = 0; e < s.epochs(); e++) {
                sgd.setLearningRate(learningRate(s, e));
                if (s.augment()) features = FeatureExtractor.images(clip, shots, 256, labels, views, s.seed() * 1_000_003L + e);
                int[] order = permutation(n, rng);
                double lossSum = 0;
                int correct = 0, seen = 0;
                for (int b = 0; b < batches; b++) {
                    StopSignal.check();
                    try (Scope scope = Scope.open()) {
                        float[][] rows = new float[per][];
                        long[] y = new long[per];
                        for (int i = 0; i < per; i++) {
                            rows[i] = features[order[b * per + i]];
                            y[i] = labels[order[b * per + i]];
                        }
                        Tensor logits = logitsOf.apply(Tensors.fromRows(rows));
                        Tensor loss = NN.crossEntropy(logits, Tensors.fromLongs(y, per));
                        loss.backward();
                        sgd.step();
                        sgd.zeroGrad();
                        double value = Tensors.item(loss);
                        lossSum += value * per;
                        long[] pred = Tensors.toLongs(NN.argmax(logits.detach(), 1));
                        for (int i = 0; i < per; i++) if (pred[i] == y[i]) correct++;
                        seen += per;
                        progress.step(++step, e + (b + 1.0) / batches, value, sgd.learningRate(), per);
                    }
                }
                last[0] = lossSum / seen;
                last[1] = (double) correct / seen;
            }
            progress.end();
            if (log != null) log.printf("%s: %d epochs, final loss %.4f, train accuracy %.3f%n", method, s.epochs(), last[0], last[1]);
        });
        return last;
    }

    static int[] permutation(int n, SplittableRandom rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1), t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** The learned prompts' class features, normalised, [n_cls][embed_dim]: CoOp's classifier at test time. */
    public static float[][] classifier(ClipModel clip, PromptLearner learner) {
        try (Scope s = Scope.open()) {
            return Tensors.toMatrix(Grad.noGrad(() -> NN.l2Normalize(Tensors.to(learner.classFeatures(clip), dev.clip4j.torch.DType.F32))));
        }
    }
}
