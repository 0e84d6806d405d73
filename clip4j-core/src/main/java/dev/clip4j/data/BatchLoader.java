package dev.clip4j.data;

import dev.clip4j.image.ImageTransform;
import dev.clip4j.image.RandomResizedCrop;
import dev.clip4j.image.RasterImage;

import java.util.ArrayDeque;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The ordering and prefetch stage: turns a dataset into batches on background threads with a bounded prefetch queue,
 * in a fixed order, so the model never waits for images. Each sample goes through the {@link ImageTransform} and,
 * if there is one, the {@link TextTransform}; the {@link Collator} makes the batch. Every random choice (caption
 * template, crop) comes from a generator seeded by (seed, epoch, sample), so a batch is the same whichever thread
 * makes it and after a resume. Training drops the last partial batch (as CLIP training does); evaluation keeps it.
 */
public final class BatchLoader implements AutoCloseable {
    /** Preprocessed images [n, 3, R, R] (CHW floats), token rows [n, textLength] (none without text), class labels (-1 if none). */
    public record Batch(float[] images, long[] tokens, int[] labels, int size, int textLength, float[] secondView) {
        public Batch(float[] images, long[] tokens, int[] labels, int size, int textLength) {
            this(images, tokens, labels, size, textLength, null);
        }
    }

    private final ImageTextDataset data;
    private final int[] order;
    private final int batchSize;
    private final ImageTransform image;
    private final TextTransform text;
    private final Collator collator;
    private final boolean keepLast;
    private final ImageTransform secondView;
    private final long seed;
    private final Shard shard;
    private final ExecutorService pool;
    private final ArrayDeque<Future<Batch>> queue = new ArrayDeque<>();
    private int nextStart;

    /** Training batches: random resized crops if {@code augment}, CLIP's tokenizer, the last partial batch dropped. */
    public BatchLoader(ImageTextDataset data, int[] order, int firstBatch, int batchSize, int resolution, int contextLength,
                       boolean augment, long seed, int threads, int prefetch) {
        this(data, order, firstBatch, batchSize, augment ? new RandomResizedCrop(resolution) : ImageTransform.evaluation(resolution),
                TextTransform.clip(contextLength), new Collator(resolution, contextLength), seed, threads, prefetch, false, null);
    }

    /**
     * Batches through the given stages. {@code text} may be null (images only: nothing is tokenized);
     * {@code keepLast} keeps the last, smaller batch. With {@code secondView} (or null), every image also gets a second
     * view through that transform (SimCLR's pairs), drawn from the sample's generator after the first view and the
     * caption, so those are the same as in a run without it.
     */
    private BatchLoader(ImageTextDataset data, int[] order, int firstBatch, int batchSize, ImageTransform image, TextTransform text,
                        Collator collator, long seed, int threads, int prefetch, boolean keepLast, ImageTransform secondView, Shard shard) {
        if (batchSize % shard.count() != 0) {
            throw new IllegalArgumentException("batch size " + batchSize + " does not split into " + shard.count() + " equal shards");
        }
        if (keepLast && shard.count() > 1) throw new IllegalArgumentException("a sharded loader drops the last partial batch");
        this.shard = shard;
        this.data = data;
        this.order = order;
        this.batchSize = batchSize;
        this.image = image;
        this.text = text;
        this.collator = collator;
        this.keepLast = keepLast;
        this.secondView = secondView;
        this.seed = seed;
        this.nextStart = firstBatch * batchSize;
        this.pool = Executors.newFixedThreadPool(Math.max(1, threads), r -> {
            Thread t = new Thread(r, "clip4j-loader");
            t.setDaemon(true);
            return t;
        });
        for (int i = 0; i < Math.max(1, prefetch); i++) submitNext();
    }

    /**
     * This process's part of every batch in a data-parallel run: of each batch of {@code batchSize} (the global batch),
     * the {@code index}-th of {@code count} equal slices. Its samples are made exactly as in the whole batch (the
     * generators are seeded by the global position), so the ranks together see what one process would.
     */
    public record Shard(int index, int count) {
        public static final Shard WHOLE = new Shard(0, 1);

        public Shard {
            if (count < 1 || index < 0 || index >= count) throw new IllegalArgumentException("shard " + index + " of " + count);
        }
    }

    /** The same, keeping only this process's {@link Shard} of each (global) batch; the last partial batch is dropped. */
    public BatchLoader(ImageTextDataset data, int[] order, int firstBatch, int batchSize, ImageTransform image, TextTransform text,
                       Collator collator, long seed, int threads, int prefetch, ImageTransform secondView, Shard shard) {
        this(data, order, firstBatch, batchSize, image, text, collator, seed, threads, prefetch, false, secondView, shard);
    }

    public BatchLoader(ImageTextDataset data, int[] order, int firstBatch, int batchSize, ImageTransform image, TextTransform text,
                       Collator collator, long seed, int threads, int prefetch, boolean keepLast, ImageTransform secondView) {
        this(data, order, firstBatch, batchSize, image, text, collator, seed, threads, prefetch, keepLast, secondView, Shard.WHOLE);
    }

    /** Every example in dataset order through the evaluation transform, the last batch kept; captions only if asked. */
    public static BatchLoader evaluation(ImageTextDataset data, int batchSize, int resolution, int contextLength, boolean withText) {
        int[] order = new int[data.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        return new BatchLoader(data, order, 0, batchSize, ImageTransform.evaluation(resolution),
                withText ? TextTransform.clip(contextLength) : null, new Collator(resolution, contextLength), 0, 1, 2, true, null);
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
        int count = Math.min(batchSize, order.length - nextStart);
        if (count <= 0 || (count < batchSize && !keepLast)) return;
        final int start = nextStart;
        nextStart += count;
        queue.add(pool.submit(() -> make(start, count)));
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

    private Batch make(int start, int whole) {
        int count = whole / shard.count(), first = start + shard.index() * count;
        RasterImage[] images = new RasterImage[count], second = secondView == null ? null : new RasterImage[count];
        long[][] rows = text == null ? null : new long[count][];
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            int idx = order[first + i];
            SplittableRandom rng = new SplittableRandom(seed ^ (0xC2B2AE3D27D4EB4FL * (idx + 1)) ^ ((long) start << 32));
            images[i] = image.apply(data.image(idx), rng); // the crop draws first, then the caption
            if (text != null) rows[i] = text.apply(data.caption(idx, rng));
            if (second != null) second[i] = secondView.apply(data.image(idx), rng);
            labels[i] = data.label(idx);
        }
        BatchLoader.Batch b = collator.collate(images, rows, labels);
        return second == null ? b : new Batch(b.images(), b.tokens(), b.labels(), b.size(), b.textLength(), collator.pixels(second));
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
