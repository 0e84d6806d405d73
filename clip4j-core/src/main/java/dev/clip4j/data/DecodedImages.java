package dev.clip4j.data;

import dev.clip4j.image.ImageDecoder;
import dev.clip4j.image.RasterImage;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Image files decoded on first use and kept for later epochs, up to a byte budget. The loader threads share the
 * CPU with training, and on a small machine their work slows every step (emoji art: decoding is ~40 % of a
 * sample's loading). The budget is {@code -Dclip4j.imageCacheMb} (default 512, 0 turns caching off), capped at a
 * quarter of the Java heap; images past it are decoded each time. Decoded images are never modified.
 */
final class DecodedImages {
    private static final long DEFAULT_BUDGET = Math.min(Long.getLong("clip4j.imageCacheMb", 512) << 20,
            Runtime.getRuntime().maxMemory() / 4);

    private final List<Path> files;
    private final long budget;
    private final AtomicReferenceArray<RasterImage> cache;
    private final AtomicLong bytes = new AtomicLong();

    DecodedImages(List<Path> files) {
        this(files, DEFAULT_BUDGET);
    }

    DecodedImages(List<Path> files, long budgetBytes) {
        this.files = files;
        this.budget = budgetBytes;
        this.cache = new AtomicReferenceArray<>(files.size());
    }

    int size() {
        return files.size();
    }

    RasterImage get(int index) {
        RasterImage img = cache.get(index);
        if (img != null) return img;
        img = ImageDecoder.read(files.get(index));
        long n = img.samples().length;
        if (bytes.get() + n <= budget && cache.compareAndSet(index, null, img)) bytes.addAndGet(n);
        return img;
    }
}
