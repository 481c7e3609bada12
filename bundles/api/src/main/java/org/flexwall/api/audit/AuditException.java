package org.flexwall.api.audit;

/** The audit trail could not be written or read; the message is meant for the operator. */
public class AuditException extends Exception {
    private static final long serialVersionUID = 1L;

    public AuditException(String message) {
        super(message);
    }

    public AuditException(String message, Throwable cause) {
        super(message, cause);
    }
}
