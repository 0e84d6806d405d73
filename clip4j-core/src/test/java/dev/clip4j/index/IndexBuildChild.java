package dev.clip4j.index;

import dev.clip4j.Precision;

import java.nio.file.Path;

/**
 * A child JVM for {@link IndexKillTest}: builds MODEL's index of IMAGES at INDEX in batches of 4, printing
 * "progress DONE" after each committed batch and pausing a little so the parent can kill it mid-build.
 */
public final class IndexBuildChild {
    public static void main(String[] a) throws Exception {
        IndexProgress slow = (done, total) -> {
            System.out.println("progress " + done);
            System.out.flush();
            try {
                Thread.sleep(150);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        try (ImageIndex index = ImageIndex.build(Path.of(a[0]), IndexSource.of(Path.of(a[1])), Path.of(a[2]), Precision.FP32, 4, slow)) {
            System.out.println("finished " + index.size());
        }
    }
}
