package dev.clip4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The launcher's class-data-sharing archives ({@code class-sharing.sh}, sourced by {@code ./clip4j}), run in bash with
 * a stand-in {@code java} that records how it was called and exits as told: which commands get an archive, how a
 * finished first run's file is adopted, and that a file the JVM would crash on (cut short) is never adopted.
 */
class LauncherClassSharingTest {
    private static final Path SCRIPT = Path.of("src/main/sh/class-sharing.sh").toAbsolutePath();
    private static final String FLAGS = "-XX:+UseParallelGC --add-modules=jdk.incubator.vector";

    @TempDir
    Path tmp;

    /** $cds after the function ran for {@code command} in {@code snap}, the stand-in java exiting with {@code javaExit}. */
    private String run(Path snap, int javaExit, Map<String, String> env, String flags, String... command) throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Path java = bin.resolve("java");
        Files.writeString(java, "#!/usr/bin/env bash\necho \"$*\" >> '" + tmp.resolve("java-calls") + "'\nexit " + javaExit + "\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> cmd = new ArrayList<>(List.of("bash", "-c",
                "set -euo pipefail; source \"$0\"; clip4j_class_sharing \"$@\"; printf '%s' \"$cds\"",
                SCRIPT.toString(), snap.toString(), "/jars/a.jar:/jars/b.jar", flags));
        cmd.addAll(List.of(command));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    private String run(Path snap, String... command) throws Exception {
        return run(snap, 0, Map.of(), FLAGS, command);
    }

    private List<String> javaCalls() throws Exception {
        Path calls = tmp.resolve("java-calls");
        return Files.exists(calls) ? Files.readAllLines(calls) : List.of();
    }

    @Test
    void aPhotoFolderCommandsFirstRunWritesItsArchiveAndLaterRunsMapIt() throws Exception {
        Path snap = Files.createDirectories(tmp.resolve("snap"));
        String first = run(snap, "embed", "--images", "photos");
        assertThat(first).matches("-XX:ArchiveClassesAtExit=" + snap + "/cds-embed-[0-9]+\\.jsa\\.[0-9]+\\.tmp -XX:\\+VerifySharedSpaces"
                + " -Xlog:cds\\*=off -Xlog:class\\+path=off");
        String embedKey = first.replaceAll(".*/cds-embed-([0-9]+)\\.jsa.*", "$1");
        // that run's JVM has exited (a pid no process has): its file is tried by a JVM with the command's flags, then adopted
        String indexArchive = "cds-index-build-" + embedKey + ".jsa"; // the same class path and flags: the same key
        Files.writeString(snap.resolve(indexArchive + ".999999999.tmp"), "archive");
        String later = run(snap, "index", "build", "--images", "photos", "--out", "idx");
        assertThat(later).startsWith("-XX:SharedArchiveFile=" + snap + "/" + indexArchive + " -XX:+VerifySharedSpaces");
        assertThat(snap.resolve(indexArchive)).hasContent("archive");
        assertThat(javaCalls()).singleElement().asString().startsWith(FLAGS + " -XX:SharedArchiveFile=" + snap
                + "/" + indexArchive + ".999999999.tmp -XX:+VerifySharedSpaces").contains("-cp /jars/a.jar:/jars/b.jar -version");
        // other flags (a user's -Xmx) or another class path: another archive, never tried with these
        assertThat(run(snap, 0, Map.of(), FLAGS + " -Xmx2g", "index", "build")).startsWith("-XX:ArchiveClassesAtExit=")
                .doesNotContain(embedKey);
        assertThat(run(snap, "index", "build")).startsWith("-XX:SharedArchiveFile=");
        assertThat(javaCalls()).as("an adopted archive is not tried again").hasSize(1);
    }

    @Test
    void aFileTheJvmCannotStartOnIsDeletedNotAdopted() throws Exception {
        Path snap = Files.createDirectories(tmp.resolve("snap"));
        String key = run(snap, "embed").replaceAll(".*/cds-embed-([0-9]+)\\.jsa.*", "$1");
        Path cutShort = snap.resolve("cds-embed-" + key + ".jsa.999999999.tmp");
        Files.writeString(cutShort, "cut short");
        String cds = run(snap, 134, Map.of(), FLAGS, "embed", "--images", "photos"); // SIGBUS on the mapped file: abort
        assertThat(cds).startsWith("-XX:ArchiveClassesAtExit=");
        assertThat(snap.resolve("cds-embed-" + key + ".jsa")).doesNotExist();
        assertThat(cutShort).doesNotExist();
    }

    @Test
    void aFileStillBeingWrittenIsLeftAlone() throws Exception {
        Path snap = Files.createDirectories(tmp.resolve("snap"));
        String key = run(snap, "embed").replaceAll(".*/cds-embed-([0-9]+)\\.jsa.*", "$1");
        Path writing = snap.resolve("cds-embed-" + key + ".jsa." + ProcessHandle.current().pid() + ".tmp"); // a live pid
        Files.writeString(writing, "half");
        assertThat(run(snap, "embed", "--images", "photos")).startsWith("-XX:ArchiveClassesAtExit=");
        assertThat(writing).exists();
        assertThat(javaCalls()).isEmpty();
    }

    /** classify and search, one-shot commands whose start-up is most of their time, get archives of their own. */
    @Test
    void classifyAndSearchGetArchivesOfTheirOwn() throws Exception {
        Path snap = Files.createDirectories(tmp.resolve("snap"));
        assertThat(run(snap, "classify", "--labels", "a,b", "x.jpg")).matches("-XX:ArchiveClassesAtExit=" + snap + "/cds-classify-[0-9]+\\.jsa\\..*");
        assertThat(run(snap, "search", "--index", "i", "--text", "a cat")).matches("-XX:ArchiveClassesAtExit=" + snap + "/cds-search-[0-9]+\\.jsa\\..*");
    }

    @Test
    void otherCommandsTheUsersOwnChoiceAndTheSwitchGetNone() throws Exception {
        Path snap = Files.createDirectories(tmp.resolve("snap"));
        for (String[] command : List.of(new String[] {"serve", "--index", "i"}, new String[] {"tokenize", "a cat"},
                new String[] {"index", "merge"}, new String[] {"train"}, new String[0])) {
            assertThat(run(snap, command)).as(String.join(" ", command)).isEmpty();
        }
        assertThat(run(snap, 0, Map.of("CLIP4J_CDS", "0"), FLAGS, "embed")).isEmpty();
        assertThat(run(snap, 0, Map.of(), FLAGS + " -Xshare:off", "embed")).isEmpty();
        assertThat(run(snap, 0, Map.of(), FLAGS + " -XX:SharedArchiveFile=/mine.jsa", "index", "update")).isEmpty();
        assertThat(run(tmp.resolve("no-such-snapshot"), "embed")).isEmpty();
        try (var files = Files.list(snap)) {
            assertThat(files).isEmpty();
        }
    }

    @Test
    void theLauncherRunsTheJvmWithTheseFlagsAfterTheUsers() throws Exception {
        String launcher = Files.readString(Path.of("../clip4j"));
        assertThat(launcher).contains("source \"$here/clip4j-cli/src/main/sh/class-sharing.sh\"")
                .contains("clip4j_class_sharing \"$snap\" \"$cp\" \"$gc --add-modules=jdk.incubator.vector ${CLIP4J_JAVA_OPTS:-}\" \"$@\"")
                .contains("exec java $gc --add-modules=jdk.incubator.vector ${CLIP4J_JAVA_OPTS:-} $cds -cp \"$cp\" \"$main\" \"$@\"")
                // only the newest snapshot keeps archives
                .contains("tail -n +2 | while read -r old; do rm -f \"$old\"/cds-*; done");
    }
}
