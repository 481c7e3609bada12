package org.flexwall.hook.nfqueue;

/** The queue socket could not be opened or bound; the message says what to do. */
final class QueueException extends Exception {
    private static final long serialVersionUID = 1L;

    QueueException(String message) {
        super(message);
    }

    QueueException(String message, Throwable cause) {
        super(message, cause);
    }
}
