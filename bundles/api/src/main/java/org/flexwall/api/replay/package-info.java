/**
 * Capture replay: a packet capture run through a private copy of the engine (packet bypass, then the stateful ICF),
 * answering "what would break?" without touching the live firewall.
 */
@Export
@Version("1.0.0")
package org.flexwall.api.replay;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
