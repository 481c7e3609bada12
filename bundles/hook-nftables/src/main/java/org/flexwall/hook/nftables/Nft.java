package org.flexwall.hook.nftables;

import java.util.Collection;
import java.util.List;

/** Where flexwall's nft commands go: one kernel transaction per {@link #apply} call. */
interface Nft {
    /** The program nftBinary names by default: the packaged nft, whose library this process loads instead. */
    String PACKAGED = "nft";

    /**
     * libnftables in this process for the packaged nft (no process per change), the program itself when nftBinary
     * names another. A prefix {@code ip netns exec NAME} becomes the library in namespace NAME, so tests take the
     * appliance's path; any other prefix runs the program behind it.
     */
    static Nft of(List<String> prefix, String binary) {
        if (binary.equals(PACKAGED)) {
            if (prefix.isEmpty()) {
                return new NftLibrary(null);
            }
            if (prefix.size() == 4 && prefix.subList(0, 3).equals(List.of("ip", "netns", "exec"))) {
                return new NftLibrary(prefix.get(3));
            }
        }
        return new NftProgram(prefix, binary);
    }

    /** Applies {@code ruleset} as one transaction; {@code what} says what it was for, in the error message. */
    void apply(String ruleset, String what) throws NftException;

    /** Deletes and adds permitted elements as one transaction (a port change). */
    default void changeElements(Collection<Element> add, Collection<Element> delete) throws NftException {
        apply(Ruleset.changes(add, delete), "update the permitted ports");
    }

    /** Whether table inet flexwall exists; terse, so thousands of elements are not listed. */
    boolean tablePresent() throws NftException;

    /** Gives back what this holds (the library's context); later calls open it again. */
    default void close() {
    }

    /** nft failed, or could not be run; the message is meant for the operator and carries nft's own error. */
    final class NftException extends Exception {
        private static final long serialVersionUID = 1L;
        final boolean missing;

        NftException(String message, boolean missing, Throwable cause) {
            super(message, cause);
            this.missing = missing;
        }
    }
}
