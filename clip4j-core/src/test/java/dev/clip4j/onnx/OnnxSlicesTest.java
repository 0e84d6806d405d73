package dev.clip4j.onnx;

import ai.onnxruntime.OrtException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A batch's slices (OnnxThreads.SLICES) read the caller's input buffers, so the caller returns or throws only once every
 * slice is done: a failed slice's error comes after the others finish, and an interrupt does not cut the wait short.
 */
class OnnxSlicesTest {
    @Test
    void theValuesComeInOrder() throws Exception {
        List<Future<float[]>> slices = List.of(CompletableFuture.completedFuture(new float[] {1, 2}),
                CompletableFuture.supplyAsync(() -> new float[] {3, 4, 5, 6}));
        assertThat(OnnxClip.joined(slices, 6)).containsExactly(1, 2, 3, 4, 5, 6);
    }

    @Test
    void aFailedSliceIsThrownOnceTheOthersAreDone() {
        AtomicBoolean slowDone = new AtomicBoolean();
        CompletableFuture<float[]> failed = CompletableFuture.failedFuture(new OrtException("slice 0 failed"));
        CompletableFuture<float[]> slow = CompletableFuture.supplyAsync(() -> {
            sleep(300);
            slowDone.set(true);
            return new float[] {1};
        });
        assertThatThrownBy(() -> OnnxClip.joined(List.of(failed, slow), 2)).isInstanceOf(OrtException.class).hasMessageContaining("slice 0 failed");
        assertThat(slowDone).as("the other slice finished first").isTrue();
    }

    @Test
    void anInterruptedCallerStillWaitsAndKeepsTheInterrupt() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<float[]> slice = CompletableFuture.supplyAsync(() -> {
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return new float[] {7};
        });
        Thread.currentThread().interrupt();
        new Thread(() -> {
            sleep(200);
            release.countDown();
        }).start();
        assertThat(OnnxClip.joined(List.of(slice), 1)).containsExactly(7);
        assertThat(slice).isDone();
        assertThat(Thread.interrupted()).as("the interrupt is kept").isTrue();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
