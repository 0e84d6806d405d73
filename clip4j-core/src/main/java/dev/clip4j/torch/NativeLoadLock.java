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

    /** Waits for the lock (other processes' loads take about a second each). */
    static NativeLoadLock acquire() {
        FileChannel channel = null;
        try {
            Path file = Loader.getCacheDir().toPath().resolve(".clip4j-native-load.lock");
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            return new NativeLoadLock(channel, channel.lock());
        } catch (IOException | RuntimeException e) {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // nothing held
                }
            }
            return new NativeLoadLock(null, null);
        }
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
