package dev.clip4j.data;


import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** A folder with one sub-folder per class ({@code root/<class name>/<image>}); underscores in names become spaces. */
public final class FolderDataset extends LabelledImageFiles {
    private static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg", ".bmp", ".gif");
    private FolderDataset(String name, List<List<String>> classes, List<Path> files, List<Integer> labels) {
        super(name, classes, files, labels);
    }

    public static FolderDataset open(Path root) {
        List<Path> dirs;
        try (var list = Files.list(root)) {
            dirs = list.filter(Files::isDirectory).sorted().toList();
        } catch (IOException e) {
            throw new DatasetException(root + ": cannot list: " + e.getMessage());
        }
        List<List<String>> classes = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (Path d : dirs) {
            try (var walk = Files.list(d)) {
                List<Path> images = walk.filter(f -> EXTENSIONS.stream().anyMatch(e -> f.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(e)))
                        .sorted().toList();
                if (images.isEmpty()) continue;
                for (Path f : images) {
                    files.add(f);
                    labels.add(classes.size());
                }
                classes.add(List.of(d.getFileName().toString().replace('_', ' ')));
            } catch (IOException e) {
                throw new DatasetException(d + ": cannot list: " + e.getMessage());
            }
        }
        if (files.isEmpty()) throw new DatasetException(root + ": no images found (expected one sub-folder of images per class)");
        if (classes.size() < 2) throw new DatasetException(root + ": only one class folder with images; need at least two");
        return new FolderDataset(root.getFileName().toString(), classes, files, labels);
    }
}
