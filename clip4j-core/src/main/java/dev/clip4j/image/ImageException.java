package dev.clip4j.image;

/** An image file that cannot be read; the message names the file. */
public class ImageException extends dev.clip4j.InputException {
    public ImageException(String message) {
        super(message);
    }
}
