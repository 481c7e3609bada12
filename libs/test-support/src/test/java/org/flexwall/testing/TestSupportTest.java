package org.flexwall.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;
import org.osgi.service.log.Logger;

class TestSupportTest {

    @interface Config {
        int reconcile_interval_seconds() default 30;

        boolean loopback_permitted() default true;

        String[] names() default { "a" };
    }

    @Test
    void aConfigurationTakesPropertyNamesAsDeclarativeServicesDoAndKeepsTheOtherDefaults() {
        Config c = Configs.config(Config.class, "reconcile.interval.seconds", 5, "names", List.of("x", "y"));
        assertEquals(5, c.reconcile_interval_seconds());
        assertTrue(c.loopback_permitted());
        assertEquals(List.of("x", "y"), List.of(c.names()));
    }

    @Test
    void aNameThatIsNoPropertyOfTheConfigurationFailsInsteadOfLeavingTheDefault() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Configs.config(Config.class, "reconcile_interval_seconds", 5));
        assertTrue(e.getMessage().contains("reconcile_interval_seconds"), e.getMessage());
        assertEquals("a-b$c_d.e", Configs.propertyName("a$_$b$$c__d_e"));
    }

    @Test
    void aMissingNeedFailsWhenSystemTestsAreRequiredAndSkipsOtherwise() {
        String before = System.getProperty("flexwall.systemTests");
        try {
            System.setProperty("flexwall.systemTests", "required");
            AssertionFailedError failed = assertThrows(AssertionFailedError.class,
                    () -> SystemTests.require(false, "needs a unicorn"));
            assertTrue(failed.getMessage().contains("needs a unicorn"), failed.getMessage());
            System.setProperty("flexwall.systemTests", "optional");
            assertThrows(TestAbortedException.class, () -> SystemTests.require(false, "needs a unicorn"));
            SystemTests.require(true, "met needs never fail or skip");
        } finally {
            if (before == null) {
                System.clearProperty("flexwall.systemTests");
            } else {
                System.setProperty("flexwall.systemTests", before);
            }
        }
    }

    @Test
    void theRecordingLoggerFillsInItsArgumentsWhateverTheOverload() {
        List<String> lines = new ArrayList<>();
        Logger log = RecordingLogger.into(lines);
        log.info("one {}", 1);
        log.warn("two {} {}", "a", "b");
        log.error("three {} {} {}", 1, 2, 3);
        log.debug("no placeholder");
        assertEquals(List.of("INFO one 1", "WARN two a b", "ERROR three 1 2 3", "DEBUG no placeholder"), lines);
    }

    @Test
    void awaitingReturnsOnceTheConditionHoldsAndFailsNamingWhatDidNotHappen() {
        AtomicInteger polls = new AtomicInteger();
        Await.until("the third poll", () -> polls.incrementAndGet() >= 3);
        assertEquals(3, polls.get());
        Throwable e = assertThrows(Throwable.class, () -> Await.until("never", Duration.ofMillis(100), () -> false));
        assertTrue(e.getMessage().contains("never"), e.getMessage());
        AssertionError detailed = assertThrows(AssertionError.class,
                () -> Await.until("never", Duration.ofMillis(100), () -> false, () -> "the state then"));
        assertTrue(detailed.getMessage().contains("never") && detailed.getMessage().contains("the state then"),
                detailed.getMessage());
    }

    @Test
    void anAssertionFailingInsideTheConditionEndsTheWaitWithItsOwnMessage() {
        AssertionError e = assertThrows(AssertionError.class, () -> Await.until("a live process", () -> {
            throw new AssertionError("the process exited");
        }));
        assertEquals("the process exited", e.getMessage());
    }

    @Test
    void aLabsNamespacesTalkOverTheirVethPairAndAreGoneAfterClose() throws Exception {
        SystemTests.requireRoot("network namespaces");
        String a;
        String b;
        try (NetnsLab lab = new NetnsLab("fwts")) {
            a = lab.namespace("a");
            b = lab.namespace("b");
            lab.veth(a, "ta0", b, "tb0");
            lab.address(a, "ta0", "10.99." + lab.subnet + ".1/24");
            lab.address(b, "tb0", "10.99." + lab.subnet + ".2/24");
            lab.up(a, "ta0");
            lab.up(b, "tb0");
            lab.start(b, "sleep", "600");
            assertTrue(lab.run(a, "ping", "-c", "1", "-W", "2", "10.99." + lab.subnet + ".2").ok());
            assertEquals(b, NetnsLab.call(b, () -> Commands.ok(null, "ip", "netns", "identify").strip()));
        }
        String left = Commands.ok(null, "ip", "netns", "list");
        assertFalse(left.contains(a) || left.contains(b), left);
    }
}
