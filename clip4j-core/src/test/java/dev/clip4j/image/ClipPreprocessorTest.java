package dev.clip4j.image;

import dev.clip4j.Fixtures;
import dev.clip4j.torch.Tensors;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClipPreprocessorTest {
    private static final Map<String, Tensor> EXPECTED = Fixtures.tensors("preprocess/preprocessed.safetensors");

    @ParameterizedTest
    @ValueSource(strings = {"astronaut", "coffee", "chelsea", "rocket", "astronaut_tall_crop", "coffee_wide_crop",
            "camera_gray", "chelsea_rgba"})
    void reproducesReferenceTensor(String name) {
        float[] expected = Tensors.toFloats(EXPECTED.get(name));
        float[] actual = new ClipPreprocessor(224).toArray(ImageDecoder.read(Fixtures.path("preprocess/" + name + ".png")));
        assertThat(actual).hasSize(expected.length);
        double maxDiff = 0;
        for (int i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(expected[i] - actual[i]));
        assertThat(maxDiff).as("max abs difference for %s", name).isLessThanOrEqualTo(1e-6);
    }

    /** The same tensors through decodeResizeAndCrop (the photo-folder path: OpenCV's rows read out of native memory). */
    @ParameterizedTest
    @ValueSource(strings = {"astronaut", "coffee", "chelsea", "rocket", "astronaut_tall_crop", "coffee_wide_crop",
            "camera_gray", "chelsea_rgba"})
    void decodingStraightIntoTheResizeReproducesReferenceTensor(String name) throws Exception {
        float[] expected = Tensors.toFloats(EXPECTED.get(name));
        Path file = Fixtures.path("preprocess/" + name + ".png");
        ClipPreprocessor.Resized r = new ClipPreprocessor(224).decodeResizeAndCrop(Files.readAllBytes(file), name);
        RasterImage whole = ImageDecoder.read(file);
        assertThat(new int[] {r.width(), r.height()}).containsExactly(whole.width(), whole.height());
        float[] actual = ClipPreprocessor.normalize(r.image());
        assertThat(actual).hasSize(expected.length);
        double maxDiff = 0;
        for (int i = 0; i < expected.length; i++) maxDiff = Math.max(maxDiff, Math.abs(expected[i] - actual[i]));
        assertThat(maxDiff).as("max abs difference for %s", name).isLessThanOrEqualTo(1e-6);
    }

    @Test
    void rejectsFileThatIsNotAnImage(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path fake = dir.resolve("fake.png");
        Files.writeString(fake, "this is not a PNG");
        assertThatThrownBy(() -> ImageDecoder.read(fake))
                .isInstanceOf(ImageException.class)
                .hasMessageContaining("fake.png")
                .hasMessageContaining("not an image");
    }

    @Test
    void missingFileIsNamed(@org.junit.jupiter.api.io.TempDir Path dir) {
        assertThatThrownBy(() -> ImageDecoder.read(dir.resolve("nope.png")))
                .isInstanceOf(ImageException.class).hasMessageContaining("nope.png").hasMessageContaining("no such file");
    }
}
