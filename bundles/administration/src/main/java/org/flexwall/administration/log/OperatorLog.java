package org.flexwall.administration.log;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.log.LogEntry;
import org.osgi.service.log.LogLevel;
import org.osgi.service.log.LogListener;
import org.osgi.service.log.LogReaderService;

/**
 * Prints the OSGi log to standard output, one line an entry, so the operator (or journald) sees what SCR, the
 * configuration and flexwall's own parts say. Which levels are recorded is set by the Log Admin configuration.
 */
@Component(service = {})
public class OperatorLog implements LogListener {
    private final PrintStream out = System.out;

    @Reference
    private LogReaderService reader;

    @Activate
    void activate() {
        // Entries logged before this bundle started are kept by the log service, newest first: print them in order.
        List<LogEntry> earlier = new ArrayList<>();
        for (Enumeration<LogEntry> e = reader.getLog(); e.hasMoreElements();) {
            earlier.add(e.nextElement());
        }
        Collections.reverse(earlier);
        earlier.forEach(this::logged);
        reader.addLogListener(this);
    }

    @Deactivate
    void deactivate() {
        reader.removeLogListener(this);
    }

    @Override
    public void logged(LogEntry entry) {
        // The framework's own bundle and service events are recorded at INFO and DEBUG: noise for an operator.
        String name = entry.getLoggerName();
        if (name != null && name.startsWith("Events.") && entry.getLogLevel().implies(LogLevel.INFO)) {
            return;
        }
        out.println(format(entry));
    }

    static String format(LogEntry entry) {
        String source = entry.getLoggerName();
        if (source == null || source.equals("LogService") || source.startsWith("Events.")) {
            source = entry.getBundle() == null ? "framework" : entry.getBundle().getSymbolicName();
        }
        StringBuilder line = new StringBuilder(160)
                .append(Instant.ofEpochMilli(entry.getTime()))
                .append(' ').append(String.format("%-5s", entry.getLogLevel()))
                .append(' ').append(source)
                .append(": ").append(entry.getMessage());
        Throwable failure = entry.getException();
        if (failure != null) {
            StringWriter trace = new StringWriter();
            failure.printStackTrace(new PrintWriter(trace));
            line.append(System.lineSeparator()).append(trace.toString().stripTrailing());
        }
        return line.toString();
    }
}
