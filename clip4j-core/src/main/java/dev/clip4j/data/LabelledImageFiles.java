package dev.clip4j.data;

import dev.clip4j.image.ImageDecoder;
import dev.clip4j.image.RasterImage;

import java.nio.file.Path;
import java.util.List;

/** Class-labelled image files decoded on demand (class folders, emoji art). */
abstract class LabelledImageFiles extends ClassLabelledDataset {
    private final String name;
    private final List<Path> files;
    private final List<Integer> labels;

    LabelledImageFiles(String name, List<List<String>> classes, List<Path> files, List<Integer> labels) {
        super(classes);
        this.name = name;
        this.files = files;
        this.labels = labels;
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
        return ImageDecoder.read(files.get(index));
    }

    @Override
    public int label(int index) {
        return labels.get(index);
    }
}
