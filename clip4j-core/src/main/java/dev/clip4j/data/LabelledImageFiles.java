package dev.clip4j.data;

import dev.clip4j.image.RasterImage;

import java.nio.file.Path;
import java.util.List;

/** Class-labelled image files decoded on first use (class folders, emoji art). */
abstract class LabelledImageFiles extends ClassLabelledDataset {
    private final String name;
    private final DecodedImages images;
    private final List<Integer> labels;

    LabelledImageFiles(String name, List<List<String>> classes, List<Path> files, List<Integer> labels) {
        super(classes);
        this.name = name;
        this.images = new DecodedImages(files);
        this.labels = labels;
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
        return images.get(index);
    }

    @Override
    public int label(int index) {
        return labels.get(index);
    }
}
