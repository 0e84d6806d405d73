package dev.clip4j.index;

/** An index that cannot be built, opened or searched as asked; the message names the index directory or file. */
public class IndexException extends dev.clip4j.InputException {
    public IndexException(String message) {
        super(message);
    }

    public IndexException(String message, Throwable cause) {
        super(message, cause);
    }
}
