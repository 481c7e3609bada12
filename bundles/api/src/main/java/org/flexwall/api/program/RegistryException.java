package org.flexwall.api.program;

/** A registry request that was refused or could not be carried out; the message is meant for the operator. */
public class RegistryException extends Exception {
    private static final long serialVersionUID = 1L;

    public RegistryException(String message) {
        super(message);
    }

    public RegistryException(String message, Throwable cause) {
        super(message, cause);
    }
}
