package dev.clip4j.cli;

/** A mistake in what the user asked for, reported as one line. */
final class UserError extends RuntimeException {
    UserError(String message) {
        super(message);
    }
}
