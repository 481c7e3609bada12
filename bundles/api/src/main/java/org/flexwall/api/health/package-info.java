/**
 * The words flexwall's Felix Health Checks are registered under, so the CLI and the console select the same checks
 * through {@code org.apache.felix.hc.api.execution.HealthCheckExecutor}.
 */
@Export
@Version("1.0.0")
package org.flexwall.api.health;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
