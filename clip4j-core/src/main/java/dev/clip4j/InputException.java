package dev.clip4j;

/**
 * Bad input from the user: a file, image, option or request clip4j refuses. The message is one line that names
 * what is at fault (file, line, tensor, limit) and never a CLI flag, so the library and the CLI share it; the CLI
 * prints it as {@code clip4j: error: <message>} with no stack trace.
 */
public class InputException extends RuntimeException {
    public InputException(String message) {
        super(message);
    }

    public InputException(String message, Throwable cause) {
        super(message, cause);
    }
}
