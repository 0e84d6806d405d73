package dev.clip4j.image;

/** An image file that cannot be read; the message names the file. */
public class ImageException extends RuntimeException {
    public ImageException(String message) {
        super(message);
    }
}
