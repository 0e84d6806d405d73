package dev.clip4j.adapt;

import dev.clip4j.model.ClipModel;
import dev.clip4j.nn.Linear;
import dev.clip4j.nn.Module;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Tensors;
import dev.clip4j.torch.Torch;
import dev.clip4j.train.Sgd;
import org.bytedeco.pytorch.Tensor;

import java.io.PrintStream;
import java.util.List;

/**
 * CoCoOp (Zhou et al., 2022): CoOp's unified context plus a per-image shift from a meta-net on the normalised image
 * feature, {@code Linear(d, d/16) – ReLU – Linear(d/16, ctx_dim)}, added to every context vector, so each image gets
 * its own prompts; the text tower runs over images × classes in one batched forward. Defaults as the paper: 4 context
 * tokens from "a photo of a", class at the end, SGD lr 0.002 (momentum 0.9, weight decay 5e-4), one constant warm-up
 * epoch at 1e-5 then cosine, batch 1, 10 epochs. Image features are computed once (no augmentation).
 */
public final class CoCoOp {
    private CoCoOp() {}

    /** CoCoOp's meta-net, named as the reference ({@code meta_net.linear1}, {@code meta_net.linear2}). */
    public static final class MetaNet extends Module {
        private final int in, hidden, out;
        private final Linear linear1, linear2;

        public MetaNet(int in, int out) {
            this.in = in;
            this.hidden = Math.max(1, in / 16);
            this.out = out;
            linear1 = child("linear1", new Linear(in, hidden));
            linear2 = child("linear2", new Linear(hidden, out));
        }

        public Tensor forward(Tensor x) {
            return linear2.forward(linear1.forward(x).relu());
        }

        @Override
        protected Module blank() {
            return new MetaNet(in, out);
        }
    }

    /** The prompt learner with the meta-net: prompts conditioned on each image. */
    public static final class Learner extends PromptLearner {
        private final MetaNet metaNet;

        public Learner(ClipModel clip, List<String> classNames, int nCtx, String ctxInit) {
            super(clip, classNames, nCtx, ctxInit, false, ClassPosition.END);
            metaNet = child("meta_net", new MetaNet(clip.config().embedDim(), clip.text().width()));
        }

        public MetaNet metaNet() {
            return metaNet;
        }

        /**
         * Normalised image features [B, E] → class features [B, n_cls, E]: the context shifted by the meta-net's output
         * for each image, all B × n_cls prompts through the text tower at once.
         */
        public Tensor classFeatures(ClipModel clip, Tensor imageFeatures) {
            long b = imageFeatures.size(0), n = classNames().size();
            Tensor shift = metaNet.forward(imageFeatures);                                  // [B, width]
            Tensor ctx = ctx();
            Tensor[] prompts = new Tensor[(int) b];
            for (int i = 0; i < b; i++) {
                Tensor shifted = ctx.add(shift.narrow(0, i, 1));                             // [n_ctx, width]
                prompts[i] = assemble(shifted.unsqueeze(0).expand(n, shifted.size(0), shifted.size(1)));
            }
            Tensor all = Tensors.cat(0, prompts);                                           // [B·n_cls, L, width]
            Tensor eot = eotIndex().repeat(b);
            Tensor f = clip.text().encode(clip.text().withPositions(all), eot, true);
            return f.reshape(b, n, f.size(1));
        }

        /** {@code logit_scale.exp() · cos(image, its own prompts)}: [B, n_cls]. */
        public Tensor logits(ClipModel clip, Tensor imageFeatures) {
            Tensor txt = NN.l2Normalize(classFeatures(clip, imageFeatures));
            return clip.logitScale().mul(NN.sum(txt.mul(imageFeatures.unsqueeze(1)), 2));
        }
    }

    public record Settings(int nCtx, String ctxInit, int epochs, int batchSize, double lr, double momentum,
                           double weightDecay, double warmupLr, long seed, boolean augment) {
        public static Settings paper(String ctxInit, int nCtx, int epochs, int batchSize, long seed, boolean augment) {
            return new Settings(nCtx, ctxInit, epochs > 0 ? epochs : 10, batchSize > 0 ? batchSize : 1, 0.002, 0.9, 5e-4, 1e-5, seed,
                    augment);
        }

        public java.util.Map<String, Object> toMap() {
            java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("n_ctx", nCtx);
            m.put("ctx_init", ctxInit);
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

        CoOp.Settings schedule() {
            return new CoOp.Settings(nCtx, ctxInit, false, ClassPosition.END, epochs, batchSize, lr, momentum, weightDecay, warmupLr, seed, augment);
        }
    }

    public record Result(Learner learner, double finalLoss, double trainAccuracy, double seconds) {}

    public static Result train(ClipModel clip, ClassSubset shots, Settings s, PrintStream log) {
        long start = System.nanoTime();
        Torch.manualSeed(s.seed());
        Learner learner = new Learner(clip, shots.classNames(), s.nCtx(), s.ctxInit());
        Sgd sgd = new Sgd(s.lr(), s.momentum(), s.weightDecay()).add(learner.ctx());
        learner.metaNet().namedParameters().values().forEach(sgd::add);
        double[] last = CoOp.fit(clip, shots, s.schedule(), sgd, img -> learner.logits(clip, img), log, "cocoop");
        return new Result(learner, last[0], last[1], (System.nanoTime() - start) / 1e9);
    }
}
