package dev.clip4j.io;

/**
 * A cooperative stop: the CLI's SIGTERM/SIGINT handler (or a Java caller) requests it, and long loops (training
 * steps, embedding batches, evaluation) check it between units of work, so a signal never interrupts a native
 * call or races the JVM's shutdown with libtorch still running.
 */
public final class StopSignal {
    private static volatile String reason;

    private StopSignal() {}

    /** Asks every long loop to stop at its next boundary; {@code why} is e.g. "SIGTERM". */
    public static void request(String why) {
        if (reason == null) reason = why;
    }

    public static boolean requested() {
        return reason != null;
    }

    public static String reason() {
        return reason;
    }

    /** Throws {@link Stopped} if a stop was requested (for loops that have nothing to save). */
    public static void check() {
        String r = reason;
        if (r != null) throw new Stopped(r);
    }

    /** For tests and long-lived hosts: forget an earlier request. */
    public static void clear() {
        reason = null;
    }

    /** A loop stopped on request; what it was writing was not written. */
    public static final class Stopped extends RuntimeException {
        public final String signal;

        public Stopped(String signal) {
            super("stopped by " + signal);
            this.signal = signal;
        }
    }
}
