package dev.clip4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code ./clip4j} builds when a source is newer than the CLI's jar, and only then: a change Maven packs into no jar
 * (a launcher script) leaves the jar as it was, and every later run used to build again (3.5 s each). The real
 * launcher runs in a copy of the project's layout, with stand-ins for {@code mvn} (counting its calls, changing
 * nothing, as Maven does when no class changed) and {@code java}.
 */
class LauncherRebuildTest {
    @TempDir
    Path root;

    @Test
    void aSourceNewerThanTheJarBuildsOnceNotOnEveryRun() throws Exception {
        Path bin = Files.createDirectories(root.resolve("bin"));
        Path calls = root.resolve("mvn-calls");
        script(bin.resolve("mvn"), "echo mvn >> '" + calls + "'");
        script(bin.resolve("java"), "echo ran java");
        Path project = Files.createDirectories(root.resolve("project"));
        Files.copy(Path.of("../clip4j"), project.resolve("clip4j"));
        Path sh = Files.createDirectories(project.resolve("clip4j-cli/src/main/sh"));
        try (var scripts = Files.list(Path.of("src/main/sh"))) { // what the launcher sources
            for (Path script : scripts.toList()) Files.copy(script, sh.resolve(script.getFileName().toString()));
        }
        Path lib = Files.createDirectories(project.resolve("clip4j-cli/target/lib"));
        Files.writeString(lib.resolve("clip4j-core-0.jar"), "core");
        Files.writeString(lib.resolve("other-1.jar"), "dependency");
        Path jar = project.resolve("clip4j-cli/target/clip4j-cli.jar");
        Files.writeString(jar, "cli");
        Files.writeString(project.resolve("pom.xml"), "<project/>");
        FileTime old = FileTime.fromMillis(System.currentTimeMillis() - 3_600_000);
        Files.setLastModifiedTime(jar, old);
        Files.setLastModifiedTime(project.resolve("pom.xml"), old);
        // runtime-env.sh, copied just now, is newer than the jar: the first run builds

        for (int run = 1; run <= 3; run++) {
            ProcessBuilder pb = new ProcessBuilder("bash", project.resolve("clip4j").toString(), "--version").redirectErrorStream(true);
            pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(out).contains("ran java");
            assertThat(Files.readAllLines(calls)).as("Maven calls after run " + run).hasSize(1);
        }
        // and a source edited later builds again
        Files.setLastModifiedTime(sh.resolve("runtime-env.sh"), FileTime.fromMillis(System.currentTimeMillis() + 60_000));
        ProcessBuilder pb = new ProcessBuilder("bash", project.resolve("clip4j").toString(), "--version").redirectErrorStream(true);
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        Process p = pb.start();
        p.getInputStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(Files.readAllLines(calls)).hasSize(2);
    }

    private static void script(Path file, String body) throws Exception {
        Files.writeString(file, "#!/usr/bin/env bash\n" + body + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

}
