package dev.clip4j.checkpoint;

/** A checkpoint that cannot be read as what it claims to be; the message names the file and, where known, the tensor. */
public class CheckpointException extends dev.clip4j.InputException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
