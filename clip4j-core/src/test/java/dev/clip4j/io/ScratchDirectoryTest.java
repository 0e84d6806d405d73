package dev.clip4j.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Scratch directories go away when closed, and a killed process's leftovers with the next one made. */
class ScratchDirectoryTest {
    @Test
    void closingDeletesTheFilesAndTheDirectory(@TempDir Path parent) throws Exception {
        Path dir, file;
        try (ScratchDirectory s = ScratchDirectory.create(parent)) {
            dir = s.path();
            file = s.file("weights.bin");
            Files.write(file, new byte[1024]);
            assertThat(dir.getFileName().toString()).startsWith("clip4j-scratch-" + ProcessHandle.current().pid() + "-");
            assertThat(Files.getPosixFilePermissions(dir)).containsExactlyInAnyOrder(
                    java.nio.file.attribute.PosixFilePermission.OWNER_READ, java.nio.file.attribute.PosixFilePermission.OWNER_WRITE,
                    java.nio.file.attribute.PosixFilePermission.OWNER_EXECUTE);
        }
        assertThat(file).doesNotExist();
        assertThat(dir).doesNotExist();
    }

    /**
     * A directory left by a process that is gone (killed before it could delete it) is removed by the next one made;
     * a running process's is kept, and a link is never followed.
     */
    @Test
    void leftoversOfProcessesNoLongerRunningAreRemoved(@TempDir Path parent) throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Path leftover = Files.createDirectory(parent.resolve("clip4j-scratch-" + gone.pid() + "-123"));
        Files.write(leftover.resolve("gemm-weights.bin"), new byte[4096]);
        Path running = Files.createDirectory(parent.resolve("clip4j-scratch-" + ProcessHandle.current().pid() + "-456"));
        Files.write(running.resolve("gemm-weights.bin"), new byte[4096]);
        Path victim = Files.createDirectory(parent.resolve("victim"));
        Files.write(victim.resolve("keep.txt"), new byte[1]);
        Path link = Files.createSymbolicLink(parent.resolve("clip4j-scratch-" + gone.pid() + "-789"), victim);
        try (ScratchDirectory s = ScratchDirectory.create(parent)) {
            assertThat(leftover).doesNotExist();
            assertThat(running.resolve("gemm-weights.bin")).exists();
            assertThat(victim.resolve("keep.txt")).exists();
            assertThat(link).exists();
        }
    }
}
