package dev.clip4j.torch;

import org.bytedeco.javacpp.Loader;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One process at a time extracts and loads libtorch and its BLAS from JavaCPP's shared cache (pitfall 15): a process on
 * OpenBLAS writes OpenBLAS's {@code libopenblas.so.0} back where one on MKL left a link to MKL's, and a process loading
 * that file meanwhile died in the dynamic linker (SIGBUS; 2 of 40 processes started four at a time, two on each BLAS).
 * A lock file beside the cache, held while {@link Torch#init} extracts and loads; a process that has loaded maps its
 * files and is not hurt by later swaps (they replace the directory entry, not the file). Where the lock cannot be taken
 * (an unwritable cache), loading goes on without it, as before.
 */
final class NativeLoadLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private NativeLoadLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** How long to wait for another process's load (each takes about a second) before loading without the lock. */
    static final long PATIENCE_MS = 60_000;

    /**
     * Waits for the lock, at most {@link #PATIENCE_MS}: a process stopped in the middle of its load (a suspended job)
     * must not hang every later start; past that, the load goes on without the lock and says so.
     */
    static NativeLoadLock acquire() {
        return acquire(PATIENCE_MS);
    }

    /** As {@link #acquire()}, waiting at most {@code patienceMs}. */
    static NativeLoadLock acquire(long patienceMs) {
        FileChannel channel = null;
        try {
            Path file = Loader.getCacheDir().toPath().resolve(".clip4j-native-load.lock");
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            long deadline = System.nanoTime() + patienceMs * 1_000_000;
            for (FileLock lock; ; Thread.sleep(20)) {
                if ((lock = channel.tryLock()) != null) return new NativeLoadLock(channel, lock);
                if (System.nanoTime() > deadline) {
                    System.err.println("clip4j: warning: another process has held " + file + " for "
                            + patienceMs / 1000.0 + " s; loading libtorch without waiting for it");
                    channel.close();
                    return new NativeLoadLock(null, null);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeQuietly(channel);
            return new NativeLoadLock(null, null);
        } catch (IOException | RuntimeException e) {
            closeQuietly(channel);
            return new NativeLoadLock(null, null);
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel == null) return;
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing held
        }
    }

    /** Whether this process holds the lock (false where it loads without it). */
    boolean held() {
        return lock != null;
    }

    @Override
    public void close() {
        try {
            if (lock != null) lock.release();
            if (channel != null) channel.close();
        } catch (IOException ignored) {
            // closing the channel releases the lock; the process's exit would too
        }
    }
}
