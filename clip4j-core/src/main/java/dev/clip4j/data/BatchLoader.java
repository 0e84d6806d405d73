package dev.clip4j.data;

import dev.clip4j.image.ClipPreprocessor;
import dev.clip4j.image.PilResize;
import dev.clip4j.image.RasterImage;
import dev.clip4j.tokenizer.ClipTokenizer;

import java.util.ArrayDeque;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Turns a dataset into batches on background threads with a bounded prefetch queue, in a fixed order, so the model
 * never waits for images. Every random choice (caption template, crop) comes from a generator seeded by
 * (seed, epoch, sample), so a batch is the same whichever thread makes it and after a resume.
 */
public final class BatchLoader implements AutoCloseable {
    /** Preprocessed images [n, 3, R, R] (CHW floats), token rows [n, textLength], class labels (-1 if none). */
    public record Batch(float[] images, long[] tokens, int[] labels, int size, int textLength) {}

    private final ImageTextDataset data;
    private final int[] order;
    private final int batchSize;
    private final int resolution;
    private final int contextLength;
    private final boolean augment;
    private final long seed;
    private final ExecutorService pool;
    private final ArrayDeque<Future<Batch>> queue = new ArrayDeque<>();
    private int nextStart;

    public BatchLoader(ImageTextDataset data, int[] order, int firstBatch, int batchSize, int resolution, int contextLength,
                       boolean augment, long seed, int threads, int prefetch) {
        this.data = data;
        this.order = order;
        this.batchSize = batchSize;
        this.resolution = resolution;
        this.contextLength = contextLength;
        this.augment = augment;
        this.seed = seed;
        this.nextStart = firstBatch * batchSize;
        this.pool = Executors.newFixedThreadPool(Math.max(1, threads), r -> {
            Thread t = new Thread(r, "clip4j-loader");
            t.setDaemon(true);
            return t;
        });
        for (int i = 0; i < Math.max(1, prefetch); i++) submitNext();
    }

    /** A permutation of {@code 0..n-1} for an epoch, from the run's seed. */
    public static int[] epochOrder(int n, long seed, int epoch) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    private void submitNext() {
        if (nextStart + batchSize > order.length) return; // drop the last partial batch, as CLIP training does
        final int start = nextStart;
        nextStart += batchSize;
        queue.add(pool.submit(() -> make(start)));
    }

    /** The next batch, or null when the epoch is done. Errors (an unreadable image) surface here. */
    public Batch next() {
        Future<Batch> f = queue.poll();
        if (f == null) return null;
        submitNext();
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new DatasetException("loading a batch failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DatasetException("interrupted while loading");
        }
    }

    private Batch make(int start) {
        int plane = 3 * resolution * resolution;
        float[] images = new float[batchSize * plane];
        long[][] rows = new long[batchSize][];
        int[] labels = new int[batchSize];
        int longest = 2;
        ClipTokenizer tok = ClipTokenizer.getDefault();
        ClipPreprocessor pre = new ClipPreprocessor(resolution);
        for (int i = 0; i < batchSize; i++) {
            int idx = order[start + i];
            SplittableRandom rng = new SplittableRandom(seed ^ (0xC2B2AE3D27D4EB4FL * (idx + 1)) ^ ((long) start << 32));
            RasterImage img = data.image(idx);
            RasterImage ready = augment ? randomResizedCrop(img, resolution, rng) : pre.resizeAndCrop(img);
            System.arraycopy(ClipPreprocessor.normalize(ready), 0, images, i * plane, plane);
            rows[i] = tok.tokenize(data.caption(idx, rng), contextLength, true);
            labels[i] = data.label(idx);
            for (int k = rows[i].length - 1; k >= 0; k--) {
                if (rows[i][k] != 0) {
                    longest = Math.max(longest, k + 1);
                    break;
                }
            }
        }
        // Rows are cut to the longest caption of the batch, rounded up to a multiple of 8 so that kernels see few
        // distinct shapes: the text transformer is causal and pools at EOT, so the features are those of the
        // full-length rows, for less work.
        longest = Math.min(contextLength, (longest + 7) / 8 * 8);
        long[] tokens = new long[batchSize * longest];
        for (int i = 0; i < batchSize; i++) System.arraycopy(rows[i], 0, tokens, i * longest, longest);
        return new Batch(images, tokens, labels, batchSize, longest);
    }

    /** torchvision's RandomResizedCrop(scale=(0.9, 1), ratio=(3/4, 4/3)) with PIL's bicubic resize. */
    static RasterImage randomResizedCrop(RasterImage img, int size, SplittableRandom rng) {
        int w = img.width(), h = img.height();
        double area = (double) w * h;
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = area * (0.9 + 0.1 * rng.nextDouble());
            double logRatio = Math.log(3.0 / 4) + (Math.log(4.0 / 3) - Math.log(3.0 / 4)) * rng.nextDouble();
            double ratio = Math.exp(logRatio);
            int cw = (int) Math.round(Math.sqrt(target * ratio));
            int ch = (int) Math.round(Math.sqrt(target / ratio));
            if (cw > 0 && ch > 0 && cw <= w && ch <= h) {
                int top = rng.nextInt(h - ch + 1), left = rng.nextInt(w - cw + 1);
                return PilResize.bicubic(ClipPreprocessor.crop(img, left, top, cw, ch), size, size);
            }
        }
        int s = Math.min(w, h);
        return PilResize.bicubic(ClipPreprocessor.crop(img, (w - s) / 2, (h - s) / 2, s, s), size, size);
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
