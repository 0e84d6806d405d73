package dev.clip4j.serve;

/** A request the service refuses: the HTTP status (4xx, or 503 when overloaded) and a one-line message for the JSON error. */
final class ServiceException extends RuntimeException {
    final int status;

    ServiceException(int status, String message) {
        super(message);
        this.status = status;
    }
}
