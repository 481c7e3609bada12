package org.flexwall.program.registry;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import org.flexwall.api.program.ProgramRegistry;
import org.flexwall.api.program.ProgramRegistryListener;
import org.flexwall.api.program.RegistryException;
import org.flexwall.api.program.TrustedProgram;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.log.Logger;
import org.osgi.service.log.LoggerFactory;

/**
 * The program registry service: {@link ProgramTable} over {@code ${flexwall.data}/programs.json}. Immediate, so a
 * damaged store is reported at boot even before anyone asks for a program.
 */
@Component(name = "org.flexwall.program.registry", service = ProgramRegistry.class, immediate = true)
public class ProgramRegistryComponent implements ProgramRegistry {

    @Reference(service = LoggerFactory.class)
    private Logger log;

    private final List<ProgramRegistryListener> listeners = new CopyOnWriteArrayList<>();
    private volatile ProgramTable table;

    @Activate
    void activate(BundleContext context) {
        String data = context.getProperty("flexwall.data");
        table = new ProgramTable(data == null || data.isBlank() ? null : Path.of(data), new ProgramTable.Events() {
            @Override
            public void info(String message) {
                log.info(message);
            }

            @Override
            public void warn(String message) {
                log.warn(message);
            }

            @Override
            public void error(String message) {
                log.error(message);
            }
        }, this::notifyListeners);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addListener(ProgramRegistryListener listener) {
        listeners.add(listener);
    }

    void removeListener(ProgramRegistryListener listener) {
        listeners.remove(listener);
    }

    private void notifyListeners() {
        for (ProgramRegistryListener listener : listeners) {
            try {
                listener.programsChanged();
            } catch (RuntimeException e) {
                log.error("a ProgramRegistryListener failed on a change of the trusted programs: {}", e.toString(), e);
            }
        }
    }

    @Override
    public List<TrustedProgram> programs() {
        return table.programs();
    }

    @Override
    public Optional<TrustedProgram> bySha256(String sha256) {
        return table.bySha256(sha256);
    }

    @Override
    public TrustedProgram trust(Path path, String name, boolean insist) throws RegistryException {
        return table.trust(path, name, insist);
    }

    @Override
    public TrustedProgram trust(Path path, String name, boolean insist, String user, String unit)
            throws RegistryException {
        return table.trust(path, name, insist, user, unit);
    }

    /** As {@link #trust} judges it: the file's real path, then the name it was given. */
    @Override
    public Optional<String> interpreter(Path path) {
        Path real;
        try {
            real = path.toRealPath();
        } catch (java.io.IOException e) {
            real = path;
        }
        return Interpreters.match(real).or(() -> Interpreters.match(path));
    }

    @Override
    public List<TrustedProgram> untrust(Path path) throws RegistryException {
        return table.untrust(path);
    }

    @Override
    public TrustedProgram reapprove(Path path) throws RegistryException {
        return table.reapprove(path);
    }

    @Override
    public boolean usable() {
        return table.usable();
    }

    @Override
    public Optional<String> problem() {
        return table.problem();
    }

    @Override
    public boolean reload() {
        return table.reload();
    }

    @Override
    public void reset() throws RegistryException {
        table.reset();
    }
}
