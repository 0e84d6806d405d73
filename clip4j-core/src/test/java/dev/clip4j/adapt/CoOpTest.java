package dev.clip4j.adapt;

import dev.clip4j.InputException;
import dev.clip4j.Parity;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.checkpoint.ModelFingerprint;
import dev.clip4j.data.Datasets;
import dev.clip4j.data.ImageTextDataset;
import dev.clip4j.eval.ZeroShot;
import dev.clip4j.model.ClipConfig;
import dev.clip4j.model.ClipModel;
import dev.clip4j.tokenizer.ClipTokenizer;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Tensors;
import dev.clip4j.torch.Torch;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** CoOp's prompt learner against the hand-written prompt and the reference's token layout; training; adapter files. */
class CoOpTest {
    @TempDir
    Path tmp;

    static final List<String> NAMES = AdaptFixture.NAMES;
    static final PrintStream QUIET = AdaptFixture.QUIET;
    static ClipModel clip;
    static Path data, model;

    @BeforeAll
    static void setUp() throws Exception {
        AdaptFixture f = AdaptFixture.get();
        clip = f.clip();
        data = f.data();
        model = f.model();
    }

    private static Tensor handWritten(List<String> names) {
        List<String> prompts = names.stream().map(n -> "a photo of a " + n + ".").toList();
        Tensor tokens = Tensors.fromRows(ClipTokenizer.getDefault().tokenize(prompts, 77, true));
        return Grad.noGrad(() -> clip.encodeText(tokens));
    }

    /** Initialised from "a photo of a", unified, class at the end: exactly CLIP's hand-written prompt. */
    @Test
    void startsExactlyFromTheHandWrittenPrompt() {
        PromptLearner p = new PromptLearner(clip, NAMES, 16, "a photo of a", false, ClassPosition.END);
        assertThat(p.contextCount()).isEqualTo(4);
        assertThat(Tensors.shape(p.ctx())).containsExactly(4, 64);
        Tensor learned = Grad.noGrad(() -> p.classFeatures(clip));
        // the same embeddings; only the prompt length differs (cut after the longest end token, against 77)
        Parity.assertClose("prompt features", learned, handWritten(NAMES), 1e-6);
    }

    /** The reference's layouts: [SOS][ctx][name][.][EOS], [SOS][ctx/2][name][ctx/2][.][EOS], [SOS][name][ctx][.][EOS]. */
    @Test
    void classTokensSitWhereTheReferencePutsThem() {
        Tensor table = clip.text().tokenEmbedding().weight();
        ClipTokenizer tok = ClipTokenizer.getDefault();
        int[] name = tok.encode("sky blue"), dot = tok.encode(".");
        for (ClassPosition pos : ClassPosition.values()) {
            PromptLearner p = new PromptLearner(clip, NAMES, 4, null, false, pos);
            Tensor prompts = Grad.noGrad(() -> p.prompts()).select(0, 1); // the "sky blue" prompt
            Tensor ctx = p.ctx();
            int at = 0;
            java.util.List<Object> layout = new java.util.ArrayList<>();
            layout.add(ClipTokenizer.SOT);
            if (pos == ClassPosition.FRONT) for (int id : name) layout.add(id);
            for (int i = 0; i < 4; i++) {
                if (pos == ClassPosition.MIDDLE && i == 2) for (int id : name) layout.add(id);
                layout.add("ctx" + i);
            }
            if (pos == ClassPosition.END) for (int id : name) layout.add(id);
            for (int id : dot) layout.add(id);
            layout.add(ClipTokenizer.EOT);
            for (Object o : layout) {
                Tensor expected = o instanceof Integer id ? table.select(0, id) : ctx.select(0, Integer.parseInt(((String) o).substring(3)));
                Parity.assertBitIdentical(pos + " position " + at, Tensors.toFloats(prompts.select(0, at).contiguous()),
                        Tensors.toFloats(Grad.noGrad(() -> expected.clone())));
                at++;
            }
            assertThat(Tensors.toLongs(p.eotIndex())[1]).as(pos + " end token").isEqualTo(at - 1);
        }
    }

    @Test
    void classSpecificContextsAreOnePerClass() {
        PromptLearner p = new PromptLearner(clip, NAMES, 8, null, true, ClassPosition.END);
        assertThat(Tensors.shape(p.ctx())).containsExactly(3, 8, 64);
        PromptLearner init = new PromptLearner(clip, NAMES, 0, "a photo of a", true, ClassPosition.END);
        Parity.assertClose("csc from the phrase", Grad.noGrad(() -> init.classFeatures(clip)), handWritten(NAMES), 1e-6);
    }

    @Test
    void fewShotSamplingIsSeededAndNamesAShortClass() {
        ImageTextDataset d = Datasets.open(data.toString());
        ClassSubset a = FewShot.sample(d, ClassSplit.ALL.classes(3), 4, 3), b = FewShot.sample(d, ClassSplit.ALL.classes(3), 4, 3);
        ClassSubset c = FewShot.sample(d, ClassSplit.ALL.classes(3), 4, 4);
        int[] ia = new int[12], ib = new int[12], ic = new int[12];
        for (int i = 0; i < 12; i++) {
            ia[i] = a.sourceIndex(i);
            ib[i] = b.sourceIndex(i);
            ic[i] = c.sourceIndex(i);
            assertThat(a.label(i)).isEqualTo(i / 4);
        }
        assertThat(ia).containsExactly(ib).isNotEqualTo(ic);
        assertThatThrownBy(() -> FewShot.sample(d, ClassSplit.ALL.classes(3), 13, 1)).isInstanceOf(InputException.class)
                .hasMessageContaining("class 'green'").hasMessageContaining("only 12 images").hasMessageContaining("--shots 13");
        assertThat(ClassSplit.BASE.classes(5)).containsExactly(0, 1, 2);
        assertThat(ClassSplit.NEW.classes(5)).containsExactly(3, 4);
    }

    @Test
    void learningRateFollowsDasslsWarmupAndCosine() {
        CoOp.Settings s = CoOp.Settings.paper(16, 16, null, false, ClassPosition.END, 0, 1, false);
        assertThat(s.epochs()).isEqualTo(200);
        assertThat(CoOp.epochsFor(1)).isEqualTo(50);
        assertThat(CoOp.epochsFor(4)).isEqualTo(100);
        assertThat(CoOp.learningRate(s, 0)).isEqualTo(1e-5);
        assertThat(CoOp.learningRate(s, 1)).isEqualTo(0.002);
        assertThat(CoOp.learningRate(s, 101)).isCloseTo(0.001, org.assertj.core.data.Offset.offset(1e-12));
    }

    /**
     * Trained on 4 shots per class, CoOp beats the hand-written prompt on the held-out images; CLIP's weights are
     * byte-identical afterwards and got no gradient; the same seed trains the same context bit for bit.
     */
    @Test
    void trainsPromptsThatBeatTheHandWrittenOneWithClipFrozen() throws Exception {
        ImageTextDataset d = Datasets.open(data.toString());
        ClassSubset shots = FewShot.sample(d, ClassSplit.ALL.classes(3), 4, 1);
        String before = ModelFingerprint.of(clip);
        CoOp.Settings s = CoOp.Settings.paper(4, 4, null, false, ClassPosition.END, 60, 1, false);
        CoOp.Result r = CoOp.train(clip, shots, s, QUIET);
        assertThat(ModelFingerprint.of(clip)).isEqualTo(before);
        clip.parameters().forEach((k, v) -> assertThat(v.grad() == null || !v.grad().defined()).as("no gradient reached " + k).isTrue());
        assertThat(clip.parameters().get("token_embedding.weight").requires_grad()).as("flags restored").isTrue();
        CoOp.Result again = CoOp.train(clip, shots, s, QUIET);
        Parity.assertBitIdentical("seeded ctx", Tensors.toFloats(again.learner().ctx().detach()), Tensors.toFloats(r.learner().ctx().detach()));

        AdapterFiles.save(tmp.resolve("coop"), new AdapterFiles.Meta("coop", shots.classNames(), model.toString(), before,
                s.toMap(), Map.of()), Map.of("ctx", r.learner().ctx()));
        Adapter a = Adapter.load(tmp.resolve("coop"));
        double adapted = a.evaluate(d, 64).top1();
        double zeroShot = ZeroShot.evaluate(clip, d, List.of("a photo of a {}."), 64).top1();
        // measured: 1.000 against 0.333 (this random CLIP's hand-written prompt is at chance)
        assertThat(adapted).as("CoOp %.3f vs zero-shot %.3f", adapted, zeroShot).isGreaterThanOrEqualTo(0.9).isGreaterThan(zeroShot + 0.2);
        float[][] probs = a.classify(List.of(data.resolve("red/0.png"), data.resolve("green/1.png")));
        assertThat(probs[0]).hasSize(3);
        assertThat(probs[0][0] + probs[0][1] + probs[0][2]).isCloseTo(1f, org.assertj.core.data.Offset.offset(1e-5f));
    }

    /**
     * With {@code augment} every epoch trains on a new seeded augmented view of each shot (the reference's loader): the
     * same seed trains the same context bit for bit, and it differs from training on features cached once.
     */
    @Test
    void augmentedTrainingIsSeededAndDiffersFromCachedFeatures() {
        ImageTextDataset d = Datasets.open(data.toString());
        ClassSubset shots = FewShot.sample(d, ClassSplit.ALL.classes(3), 4, 1);
        CoOp.Settings augmented = CoOp.Settings.paper(4, 4, null, false, ClassPosition.END, 3, 1, true);
        CoOp.Settings cached = CoOp.Settings.paper(4, 4, null, false, ClassPosition.END, 3, 1, false);
        float[] a = Tensors.toFloats(CoOp.train(clip, shots, augmented, QUIET).learner().ctx().detach());
        float[] b = Tensors.toFloats(CoOp.train(clip, shots, augmented, QUIET).learner().ctx().detach());
        float[] c = Tensors.toFloats(CoOp.train(clip, shots, cached, QUIET).learner().ctx().detach());
        Parity.assertBitIdentical("seeded augmented ctx", b, a);
        assertThat(a).isNotEqualTo(c);
        assertThat(augmented.imageFeatures()).contains("random resized crop 0.08-1, flip");
        assertThat(cached.imageFeatures()).contains("no augmentation");
        assertThat(augmented.toMap()).containsEntry("augment", true);
    }

    @Test
    void anAdapterRefusesAnotherModelAndUnknownClasses() throws Exception {
        PromptLearner p = new PromptLearner(clip, NAMES, 4, null, true, ClassPosition.END);
        CoOp.Settings s = CoOp.Settings.paper(4, 4, null, true, ClassPosition.END, 1, 1, false);
        AdapterFiles.save(tmp.resolve("csc"), new AdapterFiles.Meta("coop", NAMES, model.toString(), ModelFingerprint.of(clip),
                s.toMap(), Map.of()), Map.of("ctx", p.ctx()));
        assertThatThrownBy(() -> AdapterFiles.save(tmp.resolve("csc"), null, Map.of())).hasMessageContaining("never overwritten");
        Torch.manualSeed(8);
        Path other = tmp.resolve("other");
        ClipCheckpoint.save(ClipModel.create(clip.config()), other);
        assertThatThrownBy(() -> Adapter.load(tmp.resolve("csc"), other)).isInstanceOf(InputException.class)
                .hasMessageContaining("use the model it was trained on");
        Adapter a = Adapter.load(tmp.resolve("csc"));
        assertThatThrownBy(() -> a.classifierFor(List.of("red", "purple", "green"))).isInstanceOf(InputException.class)
                .hasMessageContaining("unknown class 'purple'");
        Path broken = tmp.resolve("broken");
        Files.createDirectories(broken);
        Files.writeString(broken.resolve(AdapterFiles.JSON), "{\"format\": \"clip4j-adapter\", \"version\": 9}");
        assertThatThrownBy(() -> Adapter.load(broken)).isInstanceOf(InputException.class).hasMessageContaining("version 9");
    }

}
