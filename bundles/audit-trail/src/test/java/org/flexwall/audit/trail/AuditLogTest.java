package org.flexwall.audit.trail;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

import org.flexwall.api.audit.AuditEntry;
import org.flexwall.api.audit.PortChange;
import org.flexwall.api.audit.TrustChange;
import org.flexwall.api.port.AddressFamily;
import org.flexwall.api.port.Protocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditLogTest {
    private static final String SHA = "a".repeat(64);

    @TempDir
    Path data;

    private Path dir() {
        return data.resolve("audit");
    }

    private List<String> newestFirst(AuditLog log) throws IOException {
        List<String> lines = new ArrayList<>();
        log.readNewestFirst(line -> !lines.add(line));
        return lines;
    }

    @Test
    void linesComeBackNewestFirstFromAPrivateDirectory() throws IOException {
        AuditLog log = new AuditLog(dir(), 1024 * 1024, 2);
        log.append(List.of("one", "two"));
        log.append(List.of("three"));
        assertEquals(List.of("three", "two", "one"), newestFirst(log));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir())));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                dir().resolve(AuditLog.CURRENT))));
    }

    @Test
    void aLineTornByACrashIsSkippedAndNeitherAnEarlierNorALaterLineIsLost() throws IOException {
        AuditLog first = new AuditLog(dir(), 1024 * 1024, 2);
        AuditEntry before = trust("before");
        first.append(List.of(AuditJson.line(before)));
        first.close();
        // the crash: half of a line reached the file, without its newline
        String torn = AuditJson.line(trust("torn"));
        Files.writeString(dir().resolve(AuditLog.CURRENT), torn.substring(0, torn.length() / 2),
                StandardOpenOption.APPEND);

        AuditLog afterRestart = new AuditLog(dir(), 1024 * 1024, 2);
        AuditEntry after = trust("after");
        afterRestart.append(List.of(AuditJson.line(after)));

        List<AuditEntry> entries = newestFirst(afterRestart).stream().map(AuditJson::parse)
                .flatMap(Optional::stream).toList();
        assertEquals(List.of(after, before), entries);
        assertEquals(3, newestFirst(afterRestart).size(), "the torn line stays, on a line of its own");
    }

    @Test
    void aTornMultiByteCharacterDoesNotHideTheWholeLines() throws IOException {
        AuditLog log = new AuditLog(dir(), 1024 * 1024, 2);
        AuditEntry whole = trust("caf\u00e9");
        log.append(List.of(AuditJson.line(whole)));
        log.close();
        byte[] torn = AuditJson.line(trust("\u00e9\u00e9")).getBytes(StandardCharsets.UTF_8);
        int cut = AuditJson.line(trust("")).indexOf("\"program\":\"") + "\"program\":\"".length() + 1;
        Files.write(dir().resolve(AuditLog.CURRENT), java.util.Arrays.copyOf(torn, cut), StandardOpenOption.APPEND);

        List<AuditEntry> entries = newestFirst(new AuditLog(dir(), 1024 * 1024, 2)).stream().map(AuditJson::parse)
                .flatMap(Optional::stream).toList();
        assertEquals(List.of(whole), entries);
    }

    @Test
    void aFullFileIsSetAsideAndOnlyTheConfiguredNumberOfOldFilesIsKept() throws IOException {
        AuditLog log = new AuditLog(dir(), 1024, 2);
        List<String> written = IntStream.range(0, 100).mapToObj(i -> String.format("line %03d %s", i, "x".repeat(80)))
                .toList();
        for (String line : written) {
            log.append(List.of(line));
        }
        assertTrue(Files.size(dir().resolve(AuditLog.CURRENT)) <= 1024);
        assertTrue(Files.size(dir().resolve("audit.1.jsonl")) <= 1024);
        assertTrue(Files.size(dir().resolve("audit.2.jsonl")) <= 1024);
        assertFalse(Files.exists(dir().resolve("audit.3.jsonl")));

        List<String> kept = newestFirst(log);
        List<String> newest = new ArrayList<>(written.subList(written.size() - kept.size(), written.size()));
        java.util.Collections.reverse(newest);
        assertEquals(newest, kept, "the newest lines, in order, across the current and the set-aside files");
        assertTrue(kept.size() > 20 && kept.size() < 40, kept.size() + " lines of ~90 bytes in 3 files of 1 KiB");
    }

    @Test
    void aBatchLargerThanAFileIsSplitAcrossFilesAndNoLineIsLost() throws IOException {
        AuditLog log = new AuditLog(dir(), 1024, 10);
        List<String> written = IntStream.range(0, 50).mapToObj(i -> "batch line " + i + " " + "y".repeat(60)).toList();
        log.append(written);
        List<String> all = newestFirst(log);
        assertEquals(written.size(), all.size());
        assertEquals(written.get(written.size() - 1), all.get(0));
    }

    @Test
    void readingStopsWhenTheReaderHasEnough() throws IOException {
        AuditLog log = new AuditLog(dir(), 1024, 3);
        for (int i = 0; i < 40; i++) {
            log.append(List.of("n" + i + " " + "z".repeat(70)));
        }
        List<String> two = new ArrayList<>();
        log.readNewestFirst(line -> {
            two.add(line);
            return two.size() == 2;
        });
        assertEquals(List.of("n39", "n38"), two.stream().map(l -> l.split(" ")[0]).toList());
    }

    @Test
    void aLinkInPlaceOfTheAuditDirectoryIsRefused() throws IOException {
        Path elsewhere = Files.createDirectory(data.resolve("elsewhere"));
        Files.createSymbolicLink(dir(), elsewhere);
        AuditLog log = new AuditLog(dir(), 1024 * 1024, 2);
        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> log.append(List.of("x")));
        assertTrue(e.getMessage().contains("not a directory of its own"), e.getMessage());
        assertEquals(0, Files.list(elsewhere).count());
    }

    @Test
    void everyEntryKindSurvivesTheRoundTripThroughJson() {
        List<AuditEntry> entries = List.of(trust("sshd"),
                TrustChange.untrusted("alice", new org.flexwall.api.program.TrustedProgram("nginx",
                        Path.of("/usr/sbin/nginx"), SHA, "b".repeat(32), Instant.parse("2026-01-01T00:00:00Z"), false,
                        "www-data", 33, "nginx.service")),
                new TrustChange(Instant.parse("2026-12-07T01:02:03.456Z"), "root", TrustChange.Action.RESET, null,
                        null, null, null, ""),
                new PortChange(Instant.parse("2026-12-07T01:02:04Z"), PortChange.Kind.OPENED, Protocol.TCP,
                        AddressFamily.IPV6, 22, "sshd", Path.of("/usr/sbin/sshd"), SHA, 812, "root",
                        "trusted program 'sshd' listens"),
                new PortChange(Instant.parse("2026-12-07T01:02:05Z"), PortChange.Kind.CLOSED, Protocol.UDP,
                        AddressFamily.IPV4, 53, "dns", null, SHA, 0, null, "the socket closed"));
        for (AuditEntry e : entries) {
            assertEquals(Optional.of(e), AuditJson.parse(AuditJson.line(e)), AuditJson.line(e));
        }
    }

    private static TrustChange trust(String name) {
        return new TrustChange(Instant.parse("2026-12-07T01:00:00Z"), "root", TrustChange.Action.TRUST, name,
                Path.of("/usr/bin/" + (name.isEmpty() ? "x" : name)), null, SHA, "");
    }
}
