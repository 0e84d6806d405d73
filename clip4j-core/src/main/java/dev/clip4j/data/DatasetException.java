package dev.clip4j.data;

/** A dataset that cannot be installed or read; the message names the file (and line) or package. */
public class DatasetException extends dev.clip4j.InputException {
    public DatasetException(String message) {
        super(message);
    }

    public DatasetException(String message, Throwable cause) {
        super(message, cause);
    }
}
