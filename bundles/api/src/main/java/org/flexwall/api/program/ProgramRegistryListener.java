package org.flexwall.api.program;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Told that the set of trusted programs changed (trust, untrust, reapprove, a reload, the store becoming usable or
 * unusable), so whoever derives decisions from it (the port store) re-evaluates at once. The registry calls every
 * such service after the change is committed, outside its own locks; listeners may call back into the registry.
 */
@ConsumerType
public interface ProgramRegistryListener {
    void programsChanged();
}
