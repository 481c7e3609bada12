package org.flexwall.launcher;

/** Something the operator must fix before flexwall can start; the message says what and how, in one line. */
public final class LaunchException extends Exception {
    private static final long serialVersionUID = 1L;

    public LaunchException(String message) {
        super(message);
    }
}
