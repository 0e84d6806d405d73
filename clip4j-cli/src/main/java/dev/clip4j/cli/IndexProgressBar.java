package dev.clip4j.cli;

import dev.clip4j.index.IndexProgress;

import java.io.PrintStream;

/** The index build's progress bar on stderr: images done of those to hash or embed, images/s and ETA. */
final class IndexProgressBar implements IndexProgress {
    private final PrintStream out;
    private final long start = System.nanoTime();
    private long lastPrint;
    private boolean printed;

    IndexProgressBar(PrintStream out) {
        this.out = out;
    }

    @Override
    public void progress(int done, int total) {
        long now = System.nanoTime();
        if (now - lastPrint < 500_000_000L && done != total) return;
        if (total == 0) return;
        lastPrint = now;
        double elapsed = (now - start) / 1e9, rate = elapsed > 0 ? done / elapsed : 0;
        String eta = done > 0 ? dev.clip4j.train.ProgressBar.formatDuration(elapsed / done * (total - done)) : "?";
        int width = 24, filled = (int) Math.min(width, (long) width * done / total);
        out.printf("\r[%s%s] %d/%d images  %.1f images/s  ETA %s   ", "#".repeat(filled), "-".repeat(width - filled), done, total, rate, eta);
        out.flush();
        printed = true;
    }

    void end() {
        if (printed) out.println();
    }
}
