package dev.clip4j.cli;

import dev.clip4j.io.StopSignal;

/**
 * SIGTERM and SIGINT request a cooperative stop instead of the JVM's immediate shutdown: the JVM's default would run
 * shutdown hooks and exit while a libtorch call is still running on the main thread, which crashed the JVM inside
 * {@code Tensor.backward()} (3 of 11 SIGTERMs). Long loops check {@link StopSignal} between steps or batches; the
 * command then exits with 128 + the signal's number (143, 130). A second signal says the stop is under way.
 */
final class Signals {
    private Signals() {}

    static void install() {
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> {
                    if (StopSignal.requested()) {
                        System.err.println("\nclip4j: already stopping after the current step");
                    } else {
                        System.err.println("\nclip4j: SIG" + name + ": stopping after the current step");
                    }
                    StopSignal.request("SIG" + name);
                });
            } catch (IllegalArgumentException e) {
                // the signal is not available here (e.g. the JVM was started with -Xrs): keep the default
            }
        }
    }

    static int exitCode(String signal) {
        return switch (signal) {
            case "SIGINT" -> 130;
            case "SIGTERM" -> 143;
            case dev.clip4j.train.Trainer.PEER_STOP -> 143; // a distributed run stops on every rank at once
            default -> 1;
        };
    }
}
