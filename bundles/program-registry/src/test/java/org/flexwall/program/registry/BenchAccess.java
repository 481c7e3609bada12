package org.flexwall.program.registry;

import java.io.IOException;
import java.nio.file.Path;

import org.flexwall.api.program.ProgramRegistry;

/** Lets the benchmarks in {@code bench} open the core table and make test executables. */
public final class BenchAccess {
    private BenchAccess() {}

    public static ProgramRegistry open(Path dataDirectory) {
        return new Fixtures.Log().open(dataDirectory);
    }

    public static Path executable(Path dir, String name, int variant) throws IOException {
        return Fixtures.executable(dir, name, variant);
    }
}
