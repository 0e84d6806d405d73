package dev.clip4j.torch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The CPU as Linux reports it (/proc/cpuinfo): its feature flags and vendor, for choices that depend on the instruction
 * set or the maker (pitfall 12).
 */
public final class CpuFlags {
    private static volatile Set<String> flags;
    private static volatile String vendor;

    private CpuFlags() {}

    /** The first processor's flags from /proc/cpuinfo (empty where unreadable: callers then take the safe path). */
    public static Set<String> get() {
        Set<String> f = flags;
        if (f == null) flags = f = read(Path.of("/proc/cpuinfo"));
        return f;
    }

    /** The first processor's vendor ({@code GenuineIntel}, {@code AuthenticAMD}), or "" where unreadable. */
    public static String vendor() {
        String v = vendor;
        if (v == null) vendor = v = field(Path.of("/proc/cpuinfo"), "vendor_id");
        return v;
    }

    static Set<String> read(Path cpuinfo) {
        String line = field(cpuinfo, "flags");
        return line.isEmpty() ? Set.of() : Arrays.stream(line.split("\\s+")).collect(Collectors.toSet());
    }

    /** The value of the first {@code key : value} line, trimmed; "" where there is none or the file is unreadable. */
    private static String field(Path cpuinfo, String key) {
        try (var lines = Files.lines(cpuinfo)) {
            return lines.filter(l -> l.startsWith(key)).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("");
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }
}
