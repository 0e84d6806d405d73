package dev.clip4j.torch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/** The CPU's feature flags as Linux reports them, for choices that depend on the instruction set (pitfall 12). */
public final class CpuFlags {
    private static volatile Set<String> flags;

    private CpuFlags() {}

    /** The first processor's flags from /proc/cpuinfo (empty where unreadable: callers then take the safe path). */
    public static Set<String> get() {
        Set<String> f = flags;
        if (f == null) flags = f = read(Path.of("/proc/cpuinfo"));
        return f;
    }

    static Set<String> read(Path cpuinfo) {
        try {
            return Files.readAllLines(cpuinfo).stream().filter(l -> l.startsWith("flags"))
                    .findFirst().map(l -> Arrays.stream(l.substring(l.indexOf(':') + 1).trim().split("\\s+")).collect(Collectors.toSet()))
                    .orElse(Set.of());
        } catch (IOException | RuntimeException e) {
            return Set.of();
        }
    }
}
