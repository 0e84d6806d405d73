package dev.clip4j.serve;

import dev.clip4j.Clip;
import dev.clip4j.image.ImageInput;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The one thread that runs the model for every request. Concurrent requests queue here: the texts waiting at any
 * moment are encoded in one batch (so 32 clients cost about one forward pass of 32 texts, not 32 passes), and images
 * in batches as well. libtorch's own threads are thus never oversubscribed by the HTTP server's threads.
 */
final class ModelWorker implements AutoCloseable {
    static final int MAX_TEXT_BATCH = 64, MAX_IMAGE_BATCH = 16;

    private sealed interface Job permits TextJob, ImageJob {}

    private record TextJob(String text, CompletableFuture<float[]> result) implements Job {}

    private record ImageJob(ImageInput image, CompletableFuture<float[]> result) implements Job {}

    private final Clip clip;
    private final LinkedBlockingQueue<Job> queue = new LinkedBlockingQueue<>(4096);
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long batches, items;

    ModelWorker(Clip clip) {
        this.clip = clip;
        this.thread = new Thread(this::loop, "clip4j-model");
        thread.setDaemon(true);
        thread.start();
    }

    /** The normalised text feature, computed on the model thread (batched with other waiting texts). */
    CompletableFuture<float[]> text(String text) {
        CompletableFuture<float[]> f = new CompletableFuture<>();
        offer(new TextJob(text, f), f);
        return f;
    }

    /** The normalised image feature (the image is decoded on the model thread, within the decoder's limits). */
    CompletableFuture<float[]> image(ImageInput image) {
        CompletableFuture<float[]> f = new CompletableFuture<>();
        offer(new ImageJob(image, f), f);
        return f;
    }

    private void offer(Job job, CompletableFuture<float[]> f) {
        if (!running) f.completeExceptionally(new ServiceException(503, "the server is shutting down"));
        else if (!queue.offer(job)) f.completeExceptionally(new ServiceException(503, "too many queries waiting; try again"));
    }

    long batches() {
        return batches;
    }

    long items() {
        return items;
    }

    private void loop() {
        while (running) {
            Job first;
            try {
                first = queue.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (first == null) continue;
            List<Job> jobs = new ArrayList<>();
            jobs.add(first);
            queue.drainTo(jobs, MAX_TEXT_BATCH + MAX_IMAGE_BATCH);
            List<TextJob> texts = new ArrayList<>();
            List<ImageJob> images = new ArrayList<>();
            for (Job j : jobs) {
                if (j instanceof TextJob t) texts.add(t);
                else images.add((ImageJob) j);
            }
            runTexts(texts);
            for (int i = 0; i < images.size(); i += MAX_IMAGE_BATCH) runImages(images.subList(i, Math.min(images.size(), i + MAX_IMAGE_BATCH)));
        }
    }

    private void runTexts(List<TextJob> jobs) {
        if (jobs.isEmpty()) return;
        try {
            float[][] f = clip.encodeTexts(jobs.stream().map(TextJob::text).toList(), true);
            batches++;
            items += jobs.size();
            for (int i = 0; i < f.length; i++) jobs.get(i).result().complete(f[i]);
        } catch (RuntimeException | Error e) {
            for (TextJob j : jobs) j.result().completeExceptionally(e);
        }
    }

    private void runImages(List<ImageJob> jobs) {
        // images one by one when a batch fails, so one bad upload fails only its own request
        try {
            float[][] f = clip.encode(jobs.stream().map(ImageJob::image).toList(), true);
            batches++;
            items += jobs.size();
            for (int i = 0; i < f.length; i++) jobs.get(i).result().complete(f[i]);
        } catch (RuntimeException | Error e) {
            if (jobs.size() == 1) {
                jobs.get(0).result().completeExceptionally(e);
                return;
            }
            for (ImageJob j : jobs) runImages(List.of(j));
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        for (Job j : queue) {
            CompletableFuture<float[]> f = j instanceof TextJob t ? t.result() : ((ImageJob) j).result();
            f.completeExceptionally(new ServiceException(503, "the server is shutting down"));
        }
    }
}
