package dev.clip4j.image;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * An image to embed, wherever it comes from: a file, encoded bytes (an upload, a Parquet cell), or an image already
 * decoded in memory. Decoding happens when the image is used, with the same limits and PIL-compatible modes as files.
 *
 * @param name what error messages call the image (its path, or a caller's label)
 */
public record ImageInput(String name, Supplier<RasterImage> decoder) {
    public static ImageInput of(Path file) {
        return new ImageInput(file.toString(), () -> ImageDecoder.read(file));
    }

    public static ImageInput of(byte[] encoded, String name) {
        byte[] copy = encoded.clone();
        return new ImageInput(name, () -> ImageDecoder.decode(copy, name));
    }

    public static ImageInput of(BufferedImage image, String name) {
        return new ImageInput(name, () -> {
            try {
                return ImageDecoder.fromBufferedImage(image);
            } catch (IllegalArgumentException e) {
                throw new ImageException(name + ": " + e.getMessage());
            }
        });
    }

    public RasterImage decode() {
        return decoder.get();
    }
}
