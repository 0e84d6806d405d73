package dev.clip4j.adapt;

import dev.clip4j.Parity;
import dev.clip4j.checkpoint.ModelFingerprint;
import dev.clip4j.data.Datasets;
import dev.clip4j.data.ImageTextDataset;
import dev.clip4j.eval.FeatureExtractor;
import dev.clip4j.eval.ZeroShot;
import dev.clip4j.model.ClipModel;
import dev.clip4j.nn.Init;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.NN;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** CoCoOp, Tip-Adapter(-F) and the few-shot linear probe: their reference identities, and each beats zero-shot. */
class AdaptersTest {
    @TempDir
    Path tmp;
    static AdaptFixture f;
    static ClipModel clip;
    static ImageTextDataset data;
    static double zeroShot;

    @BeforeAll
    static void setUp() throws Exception {
        f = AdaptFixture.get();
        clip = f.clip();
        data = Datasets.open(f.data().toString());
        zeroShot = ZeroShot.evaluate(clip, data, data.templates(), 64).top1();
    }

    /** With the meta-net's last layer zeroed there is no per-image shift: CoCoOp's logits are CoOp's. */
    @Test
    void cocoopWithAZeroMetaNetIsCoOp() {
        CoCoOp.Learner cocoop = new CoCoOp.Learner(clip, AdaptFixture.NAMES, 4, "a photo of a");
        Grad.noGrad(() -> {
            Init.fillZeros(cocoop.metaNet().namedParameters().get("linear2.weight"));
            Init.fillZeros(cocoop.metaNet().namedParameters().get("linear2.bias"));
        });
        PromptLearner coop = new PromptLearner(clip, AdaptFixture.NAMES, 4, "a photo of a", false, ClassPosition.END);
        int[] labels = new int[data.size()];
        Tensor img = Tensors.fromRows(FeatureExtractor.images(clip, data, 64, labels)).narrow(0, 0, 5);
        Tensor a = Grad.noGrad(() -> cocoop.logits(clip, img));
        Tensor txt = Grad.noGrad(() -> NN.l2Normalize(coop.classFeatures(clip)));
        Tensor b = Grad.noGrad(() -> clip.logitScale().mul(img.matmul(txt.t())));
        Parity.assertClose("CoCoOp with a zero meta-net", a, b, 1e-6);
        assertThat(cocoop.stateDict().keySet()).contains("ctx", "meta_net.linear1.weight", "meta_net.linear2.bias");
    }

    /** α = 0 leaves CLIP's zero-shot logits; the cache term against the formula written out by hand. */
    @Test
    void tipAdapterLogitsMatchTheFormula() {
        float[][] w = {{1, 0}, {0.6f, 0.8f}}, keys = {{0.8f, 0.6f}, {0, 1}, {1, 0}}, values = {{1, 0}, {0, 1}, {1, 0}};
        float[][] q = {{0.6f, 0.8f}, {1, 0}};
        double scale = 50, alpha = 1.7, beta = 5.5;
        Tensor l0 = TipAdapter.logits(Tensors.fromRows(q), Tensors.fromRows(w), Tensors.fromRows(keys), Tensors.fromRows(values), scale, 0, beta);
        Tensor l = TipAdapter.logits(Tensors.fromRows(q), Tensors.fromRows(w), Tensors.fromRows(keys), Tensors.fromRows(values), scale, alpha, beta);
        float[][] zs = Tensors.toMatrix(l0), got = Tensors.toMatrix(l);
        for (int i = 0; i < 2; i++) {
            for (int c = 0; c < 2; c++) {
                double clipLogit = scale * (q[i][0] * w[c][0] + q[i][1] * w[c][1]), cache = 0;
                for (int j = 0; j < 3; j++) {
                    double aff = q[i][0] * keys[j][0] + q[i][1] * keys[j][1];
                    cache += Math.exp(-beta * (1 - aff)) * values[j][c];
                }
                assertThat((double) zs[i][c]).isCloseTo(clipLogit, within(1e-4));
                assertThat((double) got[i][c]).isCloseTo(clipLogit + alpha * cache, within(1e-4));
            }
        }
    }

    /** A Tip-Adapter with α set to 0 scores exactly as CLIP's zero-shot classifier (scale · cosine with W). */
    @Test
    void tipAdapterWithAlphaZeroIsZeroShot() throws Exception {
        Path out = tmp.resolve("tip");
        Adaptation.prepare(f.model(), f.data().toString(), 2, ClassSplit.ALL, 3, out).tipAdapter(new TipAdapter.Settings(1, false, 1, 1e-3, 3), null);
        Path json = out.resolve(AdapterFiles.JSON);
        com.fasterxml.jackson.databind.node.ObjectNode root = (com.fasterxml.jackson.databind.node.ObjectNode) AdapterFiles.MAPPER.readTree(json.toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) root.get("settings")).put("alpha", 0.0);
        java.nio.file.Files.writeString(json, AdapterFiles.MAPPER.writeValueAsString(root));
        int[] labels = new int[data.size()];
        float[][] feats = FeatureExtractor.images(clip, data, 64, labels);
        float[][] tip = Adapter.load(out).scores(feats, data.classNames());
        float[][] zs = dev.clip4j.eval.Similarity.scores(feats, ZeroShot.classEmbeddings(clip,
                ((dev.clip4j.data.ClassLabelledDataset) data).synonyms(), data.templates()));
        double scale = Tensors.item(Grad.noGrad(clip::logitScale));
        for (int i = 0; i < zs.length; i++) for (int c = 0; c < zs[i].length; c++) zs[i][c] *= scale;
        Parity.assertClose("alpha 0 = zero-shot", Tensors.fromRows(tip), Tensors.fromRows(zs), 1e-5);
    }

    @Test
    void validationShotsAreCarvedFromTheTrainingShots() {
        assertThat(ValidationSplit.validationShots(1)).isZero();
        assertThat(ValidationSplit.validationShots(2)).isEqualTo(1);
        assertThat(ValidationSplit.validationShots(16)).isEqualTo(4);
        assertThat(ValidationSplit.validates(3, 4)).isTrue();
        assertThat(ValidationSplit.validates(2, 4)).isFalse();
        assertThat(ValidationSplit.validates(7, 4)).isTrue();
    }

    /** Every method, adapted on 4 shots per class with CLIP frozen, beats zero-shot (at chance for this random CLIP). */
    @Test
    void eachMethodBeatsZeroShotWithClipUnchanged() throws Exception {
        String before = ModelFingerprint.of(clip);
        Map<String, Adaptation.Runner> methods = new java.util.LinkedHashMap<>();
        methods.put("cocoop", a -> a.cocoop(CoCoOp.Settings.paper("a photo of a", 4, 20, 1, 1, false), AdaptFixture.QUIET));
        methods.put("tip-adapter", a -> a.tipAdapter(new TipAdapter.Settings(3, false, 20, 1e-3, 1), AdaptFixture.QUIET));
        methods.put("tip-adapter-f", a -> a.tipAdapter(new TipAdapter.Settings(3, true, 20, 1e-3, 1), AdaptFixture.QUIET));
        methods.put("linear-probe", a -> a.linearProbe(AdaptFixture.QUIET));
        for (Map.Entry<String, Adaptation.Runner> m : methods.entrySet()) {
            Path out = tmp.resolve(m.getKey());
            Map<String, Object> summary = m.getValue().run(Adaptation.prepare(f.model(), f.data().toString(), 4, ClassSplit.ALL, 1, out));
            assertThat(summary.get("method")).isEqualTo(m.getKey());
            double top1 = Adapter.load(out).evaluate(data, 64).top1();
            assertThat(top1).as("%s %.3f vs zero-shot %.3f", m.getKey(), top1, zeroShot).isGreaterThan(zeroShot + 0.2);
        }
        assertThat(ModelFingerprint.of(clip)).isEqualTo(before);
        // a training-free cache is deterministic: the same seed, the same adapter
        Path again = tmp.resolve("tip-again");
        Adaptation.prepare(f.model(), f.data().toString(), 4, ClassSplit.ALL, 1, again).tipAdapter(new TipAdapter.Settings(3, false, 20, 1e-3, 1), null);
        Parity.assertBitIdentical("keys", Tensors.toFloats(AdapterFiles.readTensors(again).get("keys")),
                Tensors.toFloats(AdapterFiles.readTensors(tmp.resolve("tip-adapter")).get("keys")));
        List<String> tuning = List.of(String.valueOf(AdapterFiles.readMeta(tmp.resolve("tip-adapter")).training().get("tuning")));
        assertThat(tuning.get(0)).contains("3 validation shots (1 per class)");
    }
}
