package org.flexwall.administration.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.apache.felix.service.command.CommandSession;
import org.flexwall.administration.control.Fakes;
import org.flexwall.administration.control.Operations;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The commands in a real Gogo runtime, registered with the scope and functions the component's generated DS
 * descriptor declares, so a function listed there without a matching method (or the other way round) fails here.
 */
class FlexwallCommandsTest {
    private final Fakes.Registry registry = new Fakes.Registry();
    private final Fakes.Store store = new Fakes.Store(registry);
    private ThreadIOImpl threadIO;
    private CommandSession session;
    private List<String> functions;

    @BeforeEach
    void shell() throws Exception {
        String descriptor = Files.readString(Path.of("target/classes/OSGI-INF/org.flexwall.administration.shell.xml"));
        Matcher scope = Pattern.compile("name=\"osgi.command.scope\" type=\"String\" value=\"([^\"]+)\"").matcher(descriptor);
        Matcher list = Pattern.compile("name=\"osgi.command.function\" type=\"String\">([^<]+)<").matcher(descriptor);
        assertTrue(scope.find() && list.find(), descriptor);
        functions = List.of(list.group(1).strip().split("\\s+"));

        threadIO = new ThreadIOImpl();
        threadIO.start();
        CommandProcessorImpl processor = new CommandProcessorImpl(threadIO);
        FlexwallCommands commands = new FlexwallCommands(Operations.using(registry, store, Fakes.MONITOR, List.of(store)).withPacketHooks(List.of(Fakes.HOOK)).withHealthChecks(Fakes.CHECKS_PASS));
        for (String f : functions) {
            processor.addCommand(scope.group(1), commands, f);
        }
        session = processor.createSession(new ByteArrayInputStream(new byte[0]), new ByteArrayOutputStream(),
                new ByteArrayOutputStream());
    }

    @AfterEach
    void close() {
        session.close();
        threadIO.stop();
    }

    private String run(String line) throws Exception {
        return String.valueOf(session.execute(line));
    }

    @Test
    void everyControlOperationIsAShellCommand() {
        assertEquals(Operations.NAMES, functions);
    }

    @Test
    void trustWithNameAndInsistReachesTheRegistry() throws Exception {
        String out = run("flexwall:trust /usr/bin/python3 scripts --insist");

        assertTrue(out.startsWith("Trusted 'scripts' at /usr/bin/python3"), out);
        assertTrue(registry.lastInsist);
    }

    @Test
    void trustWithUserAndUnitReachesTheRegistryAndSaysWhatItAccepts() throws Exception {
        String out = run("flexwall:trust /usr/sbin/nginx web --user www-data --unit nginx");

        assertTrue(out.contains("running as user www-data (uid 33), in systemd unit nginx.service"), out);
        assertEquals("www-data", registry.programs().get(0).user());
        Exception e = assertThrows(Exception.class, () -> run("flexwall:trust /usr/sbin/sshd --user"));
        assertTrue(e.getMessage().contains("missing value: --user"), e.getMessage());
    }

    @Test
    void trustWithPathOnlyNamesTheProgramAfterItsFile() throws Exception {
        assertTrue(run("flexwall:trust /usr/sbin/sshd").startsWith("Trusted 'sshd' at /usr/sbin/sshd"));
        assertTrue(run("flexwall:programs").contains("/usr/sbin/sshd"));
    }

    @Test
    void refusedTrustFailsTheCommandWithTheRegistrysMessage() {
        Exception e = assertThrows(Exception.class, () -> run("flexwall:trust /usr/bin/python3"));
        assertTrue(e.getMessage().contains("general interpreter"), e.getMessage());
    }

    @Test
    void portsAndStatusAnswerInTheClientsWords() throws Exception {
        store.listening.add(Fakes.tcp(22, 7001, Fakes.process(812, "/usr/sbin/sshd")));
        run("flexwall:trust /usr/sbin/sshd");

        assertTrue(run("flexwall:ports").contains("Open ports (1):"));
        assertTrue(run("flexwall:status").contains("1 open, 0 refused"));
    }

    @Test
    void untrustAndReapproveWorkFromTheShell() throws Exception {
        run("flexwall:trust /usr/sbin/sshd");
        assertTrue(run("flexwall:reapprove /usr/sbin/sshd").startsWith("Re-approved 'sshd'"));
        assertTrue(run("flexwall:untrust /usr/sbin/sshd").startsWith("No longer trusted: 'sshd'"));
        assertTrue(run("flexwall:programs").startsWith("No program is trusted"));
    }
}
