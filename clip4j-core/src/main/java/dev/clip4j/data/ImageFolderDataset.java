package dev.clip4j.data;

import dev.clip4j.image.RasterImage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Unlabelled images: every PNG, JPEG, GIF and BMP file under a folder, recursively, in sorted path order (for
 * embedding a collection or building a search index). No captions, no classes.
 */
public final class ImageFolderDataset implements ImageTextDataset {
    private static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg", ".gif", ".bmp");
    private final String name;
    private final List<Path> files;
    private final DecodedImages images;

    private ImageFolderDataset(String name, List<Path> files) {
        this.name = name;
        this.files = files;
        this.images = new DecodedImages(files);
    }

    public static ImageFolderDataset open(Path root) {
        if (!Files.isDirectory(root)) throw new DatasetException(root + ": not a directory");
        List<Path> files;
        try (Stream<Path> walk = Files.walk(root)) {
            files = walk.filter(Files::isRegularFile).filter(ImageFolderDataset::isImage).sorted().toList();
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new DatasetException(root + ": cannot list: " + e.getMessage());
        }
        if (files.isEmpty()) throw new DatasetException(root + ": no images (" + String.join(", ", EXTENSIONS) + ") under it");
        return new ImageFolderDataset(root.toString(), files);
    }

    static boolean isImage(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return EXTENSIONS.stream().anyMatch(n::endsWith);
    }

    /** The image files, in the dataset's order. */
    public List<Path> files() {
        return files;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int size() {
        return files.size();
    }

    @Override
    public RasterImage image(int index) {
        return images.get(index);
    }

    @Override
    public String caption(int index, SplittableRandom rng) {
        return "";
    }

    @Override
    public int label(int index) {
        return -1;
    }

    @Override
    public List<String> classNames() {
        return List.of();
    }
}
