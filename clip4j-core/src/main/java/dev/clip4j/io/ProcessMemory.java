package dev.clip4j.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** This process's memory as Linux reports it ({@code /proc/self/status}), for benchmarks and training logs. */
public final class ProcessMemory {
    private ProcessMemory() {}

    /** Resident set size in MB, or -1 where unavailable. */
    public static long rssMb() {
        return mb(statusKb("VmRSS:"));
    }

    /** Peak resident set size in MB, or -1 where unavailable. */
    public static long peakRssMb() {
        return mb(statusKb("VmHWM:"));
    }

    private static long mb(long kb) {
        return kb < 0 ? -1 : kb / 1024;
    }

    private static long statusKb(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field)) return Long.parseLong(line.replaceAll("\\D", ""));
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
