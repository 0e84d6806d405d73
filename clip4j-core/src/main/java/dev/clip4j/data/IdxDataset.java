package dev.clip4j.data;

import dev.clip4j.image.PixelMode;
import dev.clip4j.image.RasterImage;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** (Fashion-)MNIST style data: an IDX image file [N, H, W] and an IDX label file [N], classes named by the caller. */
public final class IdxDataset extends ClassLabelledDataset {
    private final String name;
    private final byte[] pixels;
    private final byte[] labels;
    private final int height, width;

    public IdxDataset(String name, Path images, Path labelFile, List<List<String>> classSynonyms) {
        super(classSynonyms);
        this.name = name;
        IdxFiles.Idx img = IdxFiles.read(images), lab = IdxFiles.read(labelFile);
        if (img.dims().length != 3) throw new DatasetException(images + ": expected [N, H, W] images, got " + Arrays.toString(img.dims()));
        if (lab.dims().length != 1 || lab.dims()[0] != img.dims()[0]) {
            throw new DatasetException(labelFile + ": " + Arrays.toString(lab.dims()) + " labels for " + img.dims()[0] + " images");
        }
        for (int i = 0; i < lab.data().length; i++) {
            if ((lab.data()[i] & 0xFF) >= classSynonyms.size()) {
                throw new DatasetException(labelFile + ": label " + (lab.data()[i] & 0xFF) + " at index " + i + " has no class name");
            }
        }
        this.pixels = img.data();
        this.labels = lab.data();
        this.height = img.dims()[1];
        this.width = img.dims()[2];
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int size() {
        return labels.length;
    }

    @Override
    public RasterImage image(int index) {
        int n = height * width;
        return new RasterImage(PixelMode.L, width, height, Arrays.copyOfRange(pixels, index * n, (index + 1) * n), null);
    }

    @Override
    public int label(int index) {
        return labels[index] & 0xFF;
    }
}
