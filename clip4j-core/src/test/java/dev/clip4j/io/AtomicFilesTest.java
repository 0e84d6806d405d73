package dev.clip4j.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AtomicFilesTest {
    @TempDir
    Path tmp;

    /** Written files get the permissions of any new file here (the user's umask), not a temporary file's 0600. */
    @Test
    void writesWithTheUsersUmask() throws IOException {
        Path plain = Files.createFile(tmp.resolve("plain"));
        Path atomic = tmp.resolve("atomic.json");
        AtomicFiles.writeString(atomic, "{}");
        assertThat(Files.getPosixFilePermissions(atomic)).isEqualTo(Files.getPosixFilePermissions(plain));
        assertThat(Files.readString(atomic)).isEqualTo("{}");
    }

    /** A writer that fails leaves the old file and no temporary behind. */
    @Test
    void failedWriteKeepsTheOldFile() throws IOException {
        Path f = tmp.resolve("report.json");
        AtomicFiles.writeString(f, "old");
        assertThatThrownBy(() -> AtomicFiles.write(f, out -> {
            out.write("half".getBytes());
            throw new IOException("disk full");
        })).hasMessageContaining("disk full");
        assertThat(Files.readString(f)).isEqualTo("old");
        try (var list = Files.list(tmp)) {
            assertThat(list).containsExactly(f);
        }
    }
}
