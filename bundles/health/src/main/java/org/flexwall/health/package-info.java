/**
 * flexwall's Felix Health Checks, one per fact an operator relies on, all tagged
 * {@link org.flexwall.api.health.FlexwallHealth#TAG}; the monitor configured in
 * {@code OSGI-INF/configurator/health.json} runs them and marks flexwall healthy, which {@link Readiness} reports.
 */
@Requirement(namespace = "osgi.extender", name = "osgi.configurator", version = "1.0")
package org.flexwall.health;

import org.osgi.annotation.bundle.Requirement;
