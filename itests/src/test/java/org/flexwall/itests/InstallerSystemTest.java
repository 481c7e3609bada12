package org.flexwall.itests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import org.flexwall.testing.Commands;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code flexwall-install} from the built archive into a system tree of its own ({@code --root}, as a disk image is
 * built; never this machine's /opt or /etc): install, upgrade and uninstall keep what is the operator's, and a
 * damaged archive, a missing Java runtime and a full disk (a small tmpfs) leave the installed release as it was.
 */
class InstallerSystemTest {
    static final Path ARCHIVE = ApplianceImage.HOME.resolveSibling("flexwall.tar.gz");
    static final Path INSTALLER = ApplianceImage.HOME.resolve("bin/flexwall-install");
    @TempDir
    Path work;
    private Path root;
    private final List<Path> mounts = new ArrayList<>();

    @BeforeEach
    void systemTree() throws Exception {
        OutsideNetwork.require();
        root = systemTree(work.resolve("root"), true);
    }

    @AfterEach
    void unmount() throws IOException {
        for (Path m : mounts) {
            OutsideNetwork.here("umount", "-l", m.toString());
        }
    }

    /** The least of a Debian tree the installer needs: the account files and, when asked, a Java runtime. */
    static Path systemTree(Path root, boolean withJava) throws IOException {
        Files.createDirectories(root.resolve("etc"));
        for (String f : List.of("passwd", "group", "shadow", "gshadow")) {
            Files.copy(Path.of("/etc", f), root.resolve("etc").resolve(f));
        }
        if (withJava) {
            Files.createDirectories(root.resolve("usr/bin"));
            Files.createSymbolicLink(root.resolve("usr/bin/java"), Path.of("/usr/bin/java"));
        }
        return root;
    }

    @Test
    void installUpgradeAndUninstallKeepTheConfigurationAndTheDataDirectory() throws Exception {
        Commands.Result installed = installer("install", ARCHIVE.toString()).check();
        Path current = root.resolve("opt/flexwall/current");
        Path first = current.toRealPath();
        assertTrue(Files.isExecutable(current.resolve("bin/flexwall")), installed.output());
        // the service's user is not root: it must enter and read the release (root's tests see through 0700)
        for (Path dir : List.of(first, first.getParent(), first.getParent().getParent())) {
            assertTrue(Files.getPosixFilePermissions(dir).containsAll(Set.of(PosixFilePermission.OTHERS_READ,
                    PosixFilePermission.OTHERS_EXECUTE)), dir + " is closed to the service user");
        }
        assertEquals(Files.readString(ApplianceImage.HOME.resolve("runtime-config/flexwall.json")),
                Files.readString(root.resolve("etc/flexwall/flexwall.json")));
        Path data = root.resolve("var/lib/flexwall");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data)));
        assertEquals(uidOf("flexwall"), Files.getAttribute(data, "unix:uid"), "the data directory is the service's");
        for (String link : List.of("etc/systemd/system/sysinit.target.wants/flexwall-baseline.service",
                "etc/systemd/system/multi-user.target.wants/flexwall.service", "usr/local/sbin/flexwall")) {
            assertTrue(Files.isSymbolicLink(root.resolve(link)), link);
        }
        assertTrue(installed.output().contains("not started"), installed.output());

        // what the operator made: configuration edited, trusted programs, an audit trail
        String edited = Files.readString(root.resolve("etc/flexwall/flexwall.json"))
                .replace("\"org.flexwall\": \"INFO\"", "\"org.flexwall\": \"DEBUG\"");
        Files.writeString(root.resolve("etc/flexwall/flexwall.json"), edited);
        Files.writeString(data.resolve("programs.json"), "{\"the operator's\": true}");
        Files.writeString(data.resolve("audit.log"), "an audit line\n");

        installer("upgrade", ARCHIVE.toString()).check();
        Path second = current.toRealPath();
        assertFalse(first.equals(second), "the upgrade made a new release current");
        assertTrue(Files.isDirectory(first), "the previous release is kept for going back");
        assertEquals(edited, Files.readString(root.resolve("etc/flexwall/flexwall.json")));
        assertTrue(Files.exists(root.resolve("etc/flexwall/flexwall.json.shipped")));
        assertEquals("{\"the operator's\": true}", Files.readString(data.resolve("programs.json")));
        assertEquals("an audit line\n", Files.readString(data.resolve("audit.log")));

        installer("upgrade", ARCHIVE.toString()).check();
        assertFalse(Files.exists(first), "only the current release and the one before it are kept");
        assertTrue(Files.isDirectory(second));

        Commands.Result removed = installer("uninstall").check();
        assertFalse(Files.exists(root.resolve("opt/flexwall")), removed.output());
        assertFalse(Files.exists(root.resolve("etc/systemd/system/flexwall.service"), LinkOption.NOFOLLOW_LINKS));
        assertFalse(Files.exists(root.resolve("usr/local/sbin/flexwall"), LinkOption.NOFOLLOW_LINKS));
        assertEquals("{\"the operator's\": true}", Files.readString(data.resolve("programs.json")));
        assertEquals(edited, Files.readString(root.resolve("etc/flexwall/flexwall.json")));

        installer("uninstall", "--purge").check();
        assertFalse(Files.exists(data));
        assertFalse(Files.exists(root.resolve("etc/flexwall")));
        assertFalse(Files.readString(root.resolve("etc/passwd")).contains("\nflexwall:"), "the user is gone");
    }

    @Test
    void aDamagedArchiveIsRefusedAndTheInstalledReleaseStaysAsItWas() throws Exception {
        installer("install", ARCHIVE.toString()).check();
        List<String> before = tree(root.resolve("opt/flexwall"));
        byte[] whole = Files.readAllBytes(ARCHIVE);

        Path truncated = Files.write(work.resolve("truncated.tar.gz"), java.util.Arrays.copyOf(whole, whole.length - 4096));
        Path flipped = work.resolve("flipped.tar.gz");
        byte[] changed = whole.clone();
        changed[whole.length / 2] ^= 0x55;
        Files.write(flipped, changed);
        Path foreign = work.resolve("foreign.tar.gz");
        Files.createDirectories(work.resolve("foreign/bin"));
        Files.writeString(work.resolve("foreign/bin/something"), "not flexwall");
        OutsideNetwork.here("tar", "-czf", foreign.toString(), "-C", work.resolve("foreign").toString(), ".").check();

        for (Path bad : List.of(truncated, flipped, foreign)) {
            Commands.Result r = installer("upgrade", bad.toString());
            System.out.println(bad.getFileName() + ": exit " + r.exitCode() + ": " + r.output().strip());
            assertEquals(4, r.exitCode(), r.output());
            assertTrue(r.output().contains(bad.equals(foreign) ? "not a flexwall archive" : "is damaged"), r.output());
            assertTrue(r.output().contains("nothing was changed"), r.output());
            assertEquals(before, tree(root.resolve("opt/flexwall")), "the installed release was touched");
        }
        assertTrue(installedLauncherRuns());
    }

    @Test
    void withoutAJavaRuntimeNothingIsInstalledAndAnUpgradeLeavesTheInstalledReleaseAsItWas() throws Exception {
        Path bare = systemTree(work.resolve("bare"), false);
        Commands.Result r = run(bare, "install", ARCHIVE.toString());
        assertEquals(3, r.exitCode(), r.output());
        assertTrue(r.output().contains("no Java runtime") && r.output().contains("openjdk-17-jre-headless"), r.output());
        assertFalse(Files.exists(bare.resolve("opt")), "nothing is unpacked without Java");

        installer("install", ARCHIVE.toString()).check();
        List<String> before = tree(root.resolve("opt/flexwall"));
        Files.delete(root.resolve("usr/bin/java"));
        r = installer("upgrade", ARCHIVE.toString());
        assertEquals(3, r.exitCode(), r.output());
        assertEquals(before, tree(root.resolve("opt/flexwall")));
    }

    @Test
    void aFullDiskAtInstallOrUpgradeLeavesNoHalfReleaseAndTheInstalledOneAsItWas() throws Exception {
        long release = OutsideNetwork.here("du", "-sk", ApplianceImage.HOME.toString()).check().output().lines()
                .findFirst().map(l -> Long.parseLong(l.split("\\s+")[0])).orElseThrow();
        // room for one release and a half: the install fits, the upgrade's second release does not
        Path opt = Files.createDirectories(root.resolve("opt"));
        mount(opt, release * 3 / 2);
        installer("install", ARCHIVE.toString()).check();
        Path current = root.resolve("opt/flexwall/current").toRealPath();
        List<String> before = tree(root.resolve("opt/flexwall"));

        Commands.Result r = installer("upgrade", ARCHIVE.toString());
        System.out.println("upgrade on a full disk: exit " + r.exitCode() + ": " + r.output().strip());
        assertEquals(5, r.exitCode(), r.output());
        assertTrue(r.output().contains("not enough space") && r.output().contains("unchanged"), r.output());
        assertEquals(current, root.resolve("opt/flexwall/current").toRealPath());
        assertEquals(before, tree(root.resolve("opt/flexwall")), "a half release or a changed file was left");
        assertTrue(installedLauncherRuns());

        // room by the size but not by the number of files: the unpacking itself fails half-way and is removed
        long files;
        try (Stream<Path> all = Files.walk(ApplianceImage.HOME)) {
            files = all.count();
        }
        Path inodes = systemTree(work.resolve("inodes"), true);
        OutsideNetwork.here("mount", "-t", "tmpfs", "-o", "size=" + release * 4 + "k,nr_inodes=" + files * 3 / 2,
                "tmpfs", Files.createDirectories(inodes.resolve("opt")).toString()).check();
        mounts.add(0, inodes.resolve("opt"));
        assertEquals(0, run(inodes, "install", ARCHIVE.toString()).exitCode());
        List<String> installed = tree(inodes.resolve("opt/flexwall"));
        r = run(inodes, "upgrade", ARCHIVE.toString());
        System.out.println("upgrade out of inodes: exit " + r.exitCode() + ": " + r.output().strip());
        assertEquals(5, r.exitCode(), r.output());
        assertTrue(r.output().contains("could not unpack") && r.output().contains("unchanged"), r.output());
        assertEquals(installed, tree(inodes.resolve("opt/flexwall")), "the half-unpacked release was left");

        // a disk too small for even one release: nothing is left of the attempt
        Path small = systemTree(work.resolve("small"), true);
        mount(Files.createDirectories(small.resolve("opt")), release / 2);
        r = run(small, "install", ARCHIVE.toString());
        assertEquals(5, r.exitCode(), r.output());
        assertFalse(Files.exists(small.resolve("opt/flexwall/current"), LinkOption.NOFOLLOW_LINKS));
        assertEquals(List.of("releases/"), tree(small.resolve("opt/flexwall")));
    }

    @Test
    void theUnitsAreValidForSystemdAndTheBaselineComesBeforeTheNetwork() throws Exception {
        installer("install", ARCHIVE.toString()).check();
        Path units = Files.createDirectories(work.resolve("units"));
        for (String unit : List.of("flexwall-baseline.service", "flexwall.service")) {
            // systemd-analyze checks that the commands exist: point them at the tree
            Files.writeString(units.resolve(unit), Files.readString(root.resolve("etc/systemd/system").resolve(unit))
                    .replace("/opt/flexwall", root.resolve("opt/flexwall").toString()));
        }
        Commands.Result verify = OutsideNetwork.here("systemd-analyze", "verify",
                units.resolve("flexwall-baseline.service").toString(), units.resolve("flexwall.service").toString());
        assertEquals("", verify.output().strip(), "systemd-analyze verify");
        assertEquals(0, verify.exitCode());

        SystemdUnit baseline = SystemdUnit.read(root.resolve("etc/systemd/system/flexwall-baseline.service"));
        assertEquals(List.of("no"), baseline.values("DefaultDependencies"));
        assertTrue(baseline.words("Before").contains("network-pre.target"));
        assertTrue(baseline.words("Wants").contains("network-pre.target"));
        assertEquals(List.of("oneshot"), baseline.values("Type"));
        assertEquals(List.of("yes"), baseline.values("RemainAfterExit"));
        assertTrue(baseline.values("ExecStop").isEmpty(), "stopping the baseline never removes the table");
        SystemdUnit service = SystemdUnit.read(root.resolve("etc/systemd/system/flexwall.service"));
        assertEquals(List.of("always"), service.values("Restart"));
        assertEquals(List.of("flexwall"), service.values("User"));
        assertTrue(service.words("After").contains("flexwall-baseline.service"));
        assertEquals(List.of("yes"), service.values("NoNewPrivileges"));
        assertEquals(List.of("strict"), service.values("ProtectSystem"));
        assertFalse(service.words("AmbientCapabilities").contains("CAP_SYS_ADMIN"));
    }

    private boolean installedLauncherRuns() throws IOException {
        Commands.Result help = OutsideNetwork.here(root.resolve("opt/flexwall/current/bin/flexwall").toString(),
                "help");
        assertEquals(0, help.exitCode(), help.output());
        return help.output().contains("flexwall run");
    }

    private void mount(Path dir, long kib) throws IOException {
        OutsideNetwork.here("mount", "-t", "tmpfs", "-o", "size=" + kib + "k", "tmpfs", dir.toString()).check();
        mounts.add(0, dir);
    }

    private Commands.Result installer(String... args) throws IOException {
        return run(root, args);
    }

    private static Commands.Result run(Path root, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(INSTALLER.toString()));
        command.addAll(List.of(args));
        command.addAll(List.of("--root", root.toString()));
        return OutsideNetwork.here(command.toArray(String[]::new));
    }

    private int uidOf(String user) throws IOException {
        return Files.readAllLines(root.resolve("etc/passwd")).stream().filter(l -> l.startsWith(user + ":"))
                .map(l -> Integer.parseInt(l.split(":")[2])).findFirst().orElseThrow();
    }

    /** Every path under {@code dir} with its size: what an install must not touch. */
    private static List<String> tree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> !p.equals(dir)).map(p -> {
                String name = dir.relativize(p) + (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "/" : "");
                try {
                    return Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) ? name + " " + Files.size(p)
                            : Files.isSymbolicLink(p) ? name + " -> " + Files.readSymbolicLink(p) : name;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).sorted().toList();
        }
    }
}
