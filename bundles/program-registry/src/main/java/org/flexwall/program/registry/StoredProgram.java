package org.flexwall.program.registry;

import java.nio.file.Path;
import java.util.Objects;

import org.flexwall.api.program.TrustedProgram;

/**
 * One row of the store: the api's {@link TrustedProgram} and the file its path led to when it was hashed, so the
 * operator sees that /usr/bin/python3 was really /usr/bin/python3.11.
 */
record StoredProgram(TrustedProgram program, Path realPath) {
    StoredProgram {
        Objects.requireNonNull(program, "program");
        Objects.requireNonNull(realPath, "realPath");
        if (!realPath.isAbsolute()) {
            throw new IllegalArgumentException("the real path must be absolute, not " + realPath);
        }
    }

    /** Whether this row was approved at {@code path} (compared after removing "." and ".." names). */
    boolean approvedAt(Path path) {
        return program.path().normalize().equals(path.normalize());
    }
}
