package org.flexwall.program.registry;

import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * General interpreters: programs that run whatever code they are handed. The process flexwall sees for a script is
 * its interpreter ({@code /proc/PID/exe}), so trusting one trusts every script any user runs with it (DESIGN.md
 * principle 2). Recognised by file name, with version suffixes such as python3.11, perl5.36.0 or luajit-2.1.0-beta3.
 */
final class Interpreters {
    private static final String NAMES = String.join("|",
            // shells (busybox and toybox contain one)
            "sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "pdksh", "yash", "fish", "csh", "tcsh", "busybox", "toybox",
            // script languages
            "python", "pypy", "perl", "ruby", "php", "php-cgi", "lua", "luajit", "tclsh", "wish", "expect",
            "node", "nodejs", "deno", "bun", "rscript", "r", "pwsh", "julia", "guile", "racket", "sbcl", "clisp",
            "erl", "escript", "elixir", "ocaml", "gawk", "awk", "mawk", "nawk", "osascript",
            // virtual machines that load arbitrary programs
            "java", "jshell", "jrunscript", "dotnet", "mono");
    // name, then an optional version ("3.11", "5.36.0") and an optional "-2.1.0-beta3" style release suffix
    private static final Pattern INTERPRETER = Pattern.compile(
            "(?:" + NAMES + ")[0-9.]*(?:-[0-9][0-9a-z.-]*)?", Pattern.CASE_INSENSITIVE);
    // the dynamic loader runs any ELF file given as its argument: /lib64/ld-linux-x86-64.so.2 /tmp/anything
    private static final Pattern LOADER = Pattern.compile("ld-linux[0-9a-z._-]*\\.so[0-9.]*|ld\\.so[0-9.]*|ld-musl-.*");

    private Interpreters() {}

    /** The interpreter's file name when {@code file} names one, else empty. */
    static Optional<String> match(Path file) {
        Path name = file.getFileName();
        if (name == null) {
            return Optional.empty();
        }
        String s = name.toString();
        return INTERPRETER.matcher(s).matches() || LOADER.matcher(s).matches() ? Optional.of(s) : Optional.empty();
    }
}
