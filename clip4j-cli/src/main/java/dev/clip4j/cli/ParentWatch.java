package dev.clip4j.cli;

import dev.clip4j.io.StopSignal;

/**
 * A rank started by {@code ./clip4j launch} stops when its launcher is gone (killed with SIGKILL, say, which it cannot
 * pass on): no orphaned ranks left waiting on their peers. It asks for a cooperative stop first and halts the JVM if
 * the rank has not ended {@link #GRACE_SECONDS} later (a rank blocked in a collective on a dead peer).
 */
final class ParentWatch {
    /** The launcher's pid, set in each rank's environment. */
    static final String ENV = "CLIP4J_LAUNCHER_PID";
    static final long GRACE_SECONDS = 30;

    private ParentWatch() {}

    static void install() {
        String pid = System.getenv(ENV);
        if (pid == null || pid.isBlank()) return;
        ProcessHandle parent;
        try {
            parent = ProcessHandle.of(Long.parseLong(pid.trim())).orElse(null);
        } catch (NumberFormatException e) {
            return;
        }
        ProcessHandle watched = parent;
        Thread t = new Thread(() -> {
            try {
                while (watched != null && watched.isAlive()) Thread.sleep(500);
                System.err.println("clip4j: the launcher (pid " + pid + ") is gone; stopping");
                StopSignal.request("SIGTERM");
                Thread.sleep(GRACE_SECONDS * 1000);
                Runtime.getRuntime().halt(143);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "clip4j-parent-watch");
        t.setDaemon(true);
        t.start();
    }
}
