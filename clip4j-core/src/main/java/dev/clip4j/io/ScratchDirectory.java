package dev.clip4j.io;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A private directory in the system's temporary directory for files that live only while this process needs them
 * (the weights ONNX Runtime reads once, {@link dev.clip4j.onnx.OnnxSession#owning}), which may be large: it is deleted
 * when closed, at exit if the process is stopped before ({@code deleteOnExit} runs on SIGINT and SIGTERM), and by the
 * next process that makes one if this one was killed outright (its name carries the process id, and a directory whose
 * process is gone is a leftover). Owner-only where POSIX permissions exist ({@link Files#createTempDirectory}).
 */
public final class ScratchDirectory implements AutoCloseable {
    private static final Pattern NAME = Pattern.compile("clip4j-scratch-(\\d+)-.*");

    private final Path dir;

    private ScratchDirectory(Path dir) {
        this.dir = dir;
    }

    /** A fresh, empty directory in {@code java.io.tmpdir}, after removing the leftovers of processes no longer running. */
    public static ScratchDirectory create() throws IOException {
        return create(Path.of(System.getProperty("java.io.tmpdir")));
    }

    /** As {@link #create()}, in {@code parent} instead of the system's temporary directory. */
    public static ScratchDirectory create(Path parent) throws IOException {
        removeLeftovers(parent);
        Path dir = Files.createTempDirectory(parent, "clip4j-scratch-" + ProcessHandle.current().pid() + "-");
        dir.toFile().deleteOnExit(); // the directory after the files in it (deleteOnExit runs in reverse order)
        return new ScratchDirectory(dir);
    }

    public Path path() {
        return dir;
    }

    /** A file in this directory, to be written once: registered for deletion at exit before it exists. */
    public Path file(String name) {
        Path f = dir.resolve(name);
        f.toFile().deleteOnExit();
        return f;
    }

    /** Deletes the files and the directory; a failure leaves a leftover that the next process removes, nothing worse. */
    @Override
    public void close() {
        deleteQuietly(dir);
    }

    private static void removeLeftovers(Path parent) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(parent, "clip4j-scratch-*")) {
            for (Path d : entries) {
                Matcher m = NAME.matcher(d.getFileName().toString());
                if (!m.matches() || !Files.isDirectory(d, java.nio.file.LinkOption.NOFOLLOW_LINKS)) continue;
                long pid;
                try {
                    pid = Long.parseLong(m.group(1));
                } catch (NumberFormatException e) {
                    continue;
                }
                // a reused process id keeps a leftover a while longer; a running process's directory is never touched
                if (ProcessHandle.of(pid).isEmpty()) deleteQuietly(d);
            }
        } catch (IOException | SecurityException ignored) {
            // another user's directory or an unreadable temporary directory: not ours to clean
        }
    }

    private static void deleteQuietly(Path dir) {
        try {
            dev.clip4j.data.DataFiles.deleteTree(dir);
        } catch (IOException ignored) {
            // left for the next process's clean-up
        }
    }
}
