package dev.clip4j.data;

import dev.clip4j.image.ClipPreprocessor;
import dev.clip4j.image.RasterImage;

/**
 * A data stage: samples into a {@link BatchLoader.Batch}. Images are normalised into one CHW float array; token rows
 * are cut to the longest caption of the batch, rounded up to a multiple of 8 so that kernels see few distinct shapes
 * (the text transformer is causal and pools at EOT, so the features are those of the full-length rows, for less work).
 */
public final class Collator {
    private final int resolution, contextLength;

    public Collator(int resolution, int contextLength) {
        this.resolution = resolution;
        this.contextLength = contextLength;
    }

    /** Normalised CHW floats of images at the loader's resolution, one after another. */
    public float[] pixels(RasterImage[] images) {
        int n = images.length, plane = 3 * resolution * resolution;
        float[] pixels = new float[n * plane];
        for (int i = 0; i < n; i++) System.arraycopy(ClipPreprocessor.normalize(images[i]), 0, pixels, i * plane, plane);
        return pixels;
    }

    /** {@code rows} may be null (no text in this batch: evaluation of images). */
    public BatchLoader.Batch collate(RasterImage[] images, long[][] rows, int[] labels) {
        int n = images.length;
        float[] pixels = pixels(images);
        if (rows == null) return new BatchLoader.Batch(pixels, new long[0], labels, n, 0);
        int longest = 2;
        for (long[] row : rows) {
            for (int k = row.length - 1; k >= 0; k--) {
                if (row[k] != 0) {
                    longest = Math.max(longest, k + 1);
                    break;
                }
            }
        }
        longest = Math.min(contextLength, (longest + 7) / 8 * 8);
        long[] tokens = new long[n * longest];
        for (int i = 0; i < n; i++) System.arraycopy(rows[i], 0, tokens, i * longest, longest);
        return new BatchLoader.Batch(pixels, tokens, labels, n, longest);
    }
}
