package dev.clip4j.cli;

/** A mistake in what the user asked for on the command line, reported as one line. */
final class UserError extends dev.clip4j.InputException {
    UserError(String message) {
        super(message);
    }
}
