package org.flexwall.api.replay;

/** Why a capture could not be replayed, in one sentence an operator can act on. */
public class ReplayException extends Exception {
    private static final long serialVersionUID = 1L;

    public ReplayException(String message) {
        super(message);
    }
}
