package dev.clip4j.eval;

import dev.clip4j.Fixtures;
import dev.clip4j.Parity;
import dev.clip4j.checkpoint.CheckpointException;
import dev.clip4j.checkpoint.ClipCheckpoint;
import dev.clip4j.data.BatchLoader;
import dev.clip4j.data.Datasets;
import dev.clip4j.data.ImageTextDataset;
import dev.clip4j.model.ClipModel;
import dev.clip4j.model.Scoring;
import dev.clip4j.model.TokenWiseSimilarity;
import dev.clip4j.tokenizer.ClipTokenizer;
import dev.clip4j.torch.Grad;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Token-wise evaluation: streamed, blocked scores equal one direct computation; the scoring survives a checkpoint. */
class TokenWiseScoresTest {
    @TempDir
    Path tmp;

    static final List<String> TEXTS = List.of("a photo of a red square", "blue", "a green thing on a white background",
            "noise", "a photo of a cat");

    private Path folders() throws Exception {
        Random rng = new Random(5);
        for (String cls : new String[] {"red", "blue"}) {
            Path dir = Files.createDirectories(tmp.resolve("data").resolve(cls));
            for (int i = 0; i < 3; i++) {
                BufferedImage img = new BufferedImage(24, 24, BufferedImage.TYPE_3BYTE_BGR);
                for (int y = 0; y < 24; y++) for (int x = 0; x < 24; x++) img.setRGB(x, y, rng.nextInt(1 << 24));
                ImageIO.write(img, "png", dir.resolve(i + ".png").toFile());
            }
        }
        return tmp.resolve("data");
    }

    /**
     * Images in batches of 4 and texts in blocks of one: the same scores as every image against every text at once
     * with full-length (77) token rows. Padding after the end token cannot matter (causal mask, excluded positions);
     * only the batching of the float32 products differs, hence 1e-5 relative.
     */
    @Test
    void streamedBlocksEqualOneDirectComputation() throws Exception {
        // CLIP's vocabulary (the fixture's tiny model has 512 ids), random weights
        ClipModel model = ClipModel.create(new dev.clip4j.model.ClipConfig("t", 16, 16, new int[] {2}, 32, 8, 2, 77, 49408,
                32, 2, 2)).scoring(Scoring.TOKEN_WISE);
        ImageTextDataset data = Datasets.open(folders().toString());
        int[] labels = new int[data.size()];
        TokenWiseScores.Matrices m = TokenWiseScores.of(model, data, 4, labels, TEXTS, 1);
        int res = model.imageResolution();
        try (BatchLoader loader = BatchLoader.evaluation(data, 100, res, model.contextLength(), false)) {
            BatchLoader.Batch all = loader.next();
            assertThat(labels).containsExactly(all.labels());
            Tensor images = Tensors.fromFloats(all.images(), all.size(), 3, res, res);
            Tensor tokens = Tensors.fromRows(ClipTokenizer.getDefault().tokenize(TEXTS, model.contextLength(), true));
            TokenWiseSimilarity.Scores direct = Grad.noGrad(() -> TokenWiseSimilarity.of(model.encodeImageTokens(images),
                    model.encodeTextTokens(tokens), TokenWiseSimilarity.textValid(tokens)));
            Parity.assertClose("imageToText", Tensors.fromRows(m.imageToText()), direct.imageToText(), 1e-5);
            Parity.assertClose("textToImage", Tensors.fromRows(m.textToImage()), direct.textToImage(), 1e-5);
        }
        assertThat(m.imageToText()[0]).isNotEqualTo(m.textToImage()[0]);
    }

    @Test
    void scoringIsSavedWithTheModelAndCheckedOnLoad() throws Exception {
        ClipModel model = ClipCheckpoint.loadModel(Fixtures.path("vit/weights.safetensors"));
        assertThat(model.scoring()).isEqualTo(Scoring.POOLED);
        ClipCheckpoint.save(model, tmp.resolve("pooled"));
        assertThat(Files.readString(tmp.resolve("pooled/clip4j.json"))).doesNotContain("scoring");
        ClipCheckpoint.save(model.scoring(Scoring.TOKEN_WISE), tmp.resolve("filip"));
        assertThat(ClipCheckpoint.loadModel(tmp.resolve("filip")).scoring()).isEqualTo(Scoring.TOKEN_WISE);
        assertThat(ClipCheckpoint.loadModel(tmp.resolve("pooled")).scoring()).isEqualTo(Scoring.POOLED);
        assertThat(model.<ClipModel>copy().scoring()).isEqualTo(Scoring.TOKEN_WISE);
        Path bad = tmp.resolve("filip/clip4j.json");
        Files.writeString(bad, Files.readString(bad).replace("token-wise", "max-sim"));
        assertThatThrownBy(() -> ClipCheckpoint.loadModel(tmp.resolve("filip"))).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("clip4j.json").hasMessageContaining("unknown scoring 'max-sim'");
    }

    /** A ResNet's dense tokens: the spatial mean first, then every position, each in the shared space. */
    @Test
    void resnetTokenFeaturesAreProjected() {
        ClipModel rn = ClipCheckpoint.loadModel(Fixtures.path("resnet/weights.safetensors"));
        Map<String, Tensor> in = Fixtures.tensors("resnet/inputs.safetensors");
        Tensor images = in.get("images").narrow(0, 0, 2);
        long[] shape = Tensors.shape(Grad.noGrad(() -> rn.encodeImageTokens(images)));
        int grid = rn.imageResolution() / 32;
        assertThat(shape).containsExactly(2, (long) grid * grid + 1, rn.config().embedDim());
    }
}
