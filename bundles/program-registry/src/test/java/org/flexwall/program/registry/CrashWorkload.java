package org.flexwall.program.registry;

import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.flexwall.api.program.RegistryException;
import org.flexwall.api.program.TrustedProgram;

/**
 * The writer's sequence of changes, a pure function of the committed generation and list, so that the checker can
 * tell which change was in flight when the writer was killed.
 */
final class CrashWorkload {
    static final int PROGRAMS = 4;

    private CrashWorkload() {}

    static String name(int i) {
        return "p" + i;
    }

    /** The names trusted after the change that follows {@code generation} (the list is unchanged by a reapproval). */
    static String next(long generation, String names) {
        TreeSet<String> set = parse(names);
        String target = name((int) (generation % PROGRAMS));
        if (reapproves(generation, set)) {
            return names;
        }
        if (!set.remove(target)) {
            set.add(target);
        }
        return String.join(",", set);
    }

    /** Makes the change that follows the table's current generation. */
    static void step(ProgramTable table, Path programs) throws RegistryException {
        long generation = table.generation();
        TreeSet<String> set = parse(names(table.programs()));
        if (reapproves(generation, set)) {
            table.reapprove(programs.resolve(set.first()));
            return;
        }
        String target = name((int) (generation % PROGRAMS));
        if (set.contains(target)) {
            table.untrust(programs.resolve(target));
        } else {
            table.trust(programs.resolve(target), target, false);
        }
    }

    /** Sorted, comma-separated names: the form both sides compare. */
    static String names(Collection<TrustedProgram> programs) {
        return programs.stream().map(TrustedProgram::name).sorted().collect(Collectors.joining(","));
    }

    private static boolean reapproves(long generation, TreeSet<String> set) {
        return generation % 5 == 4 && !set.isEmpty();
    }

    private static TreeSet<String> parse(String names) {
        return names.isEmpty() ? new TreeSet<>() : new TreeSet<>(List.of(names.split(",")));
    }
}
