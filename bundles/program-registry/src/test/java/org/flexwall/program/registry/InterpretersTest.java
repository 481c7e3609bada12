package org.flexwall.program.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Optional;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class InterpretersTest {

    @ParameterizedTest
    @ValueSource(strings = { "python3", "python3.11", "python", "pypy3", "perl", "perl5.36.0", "bash", "sh", "dash",
            "zsh", "busybox", "node", "nodejs", "java", "ruby3.1", "php8.2", "lua5.4", "luajit-2.1.0-beta3",
            "tclsh8.6", "Rscript", "gawk", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1" })
    void generalInterpretersAreRecognisedWithTheirVersionSuffixes(String name) {
        assertEquals(Optional.of(name), Interpreters.match(Path.of("/usr/bin", name)));
    }

    @ParameterizedTest
    @ValueSource(strings = { "sshd", "nginx", "true", "javac", "ssh", "rsh", "bashbug-x", "python3-config",
            "php-fpm8.2", "dnsmasq", "nodemon", "shd", "perlish" })
    void ordinaryProgramsAreNotInterpreters(String name) {
        assertTrue(Interpreters.match(Path.of("/usr/sbin", name)).isEmpty(), name);
    }
}
