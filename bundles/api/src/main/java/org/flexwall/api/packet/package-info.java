/**
 * The packet path (FIG. 6 and FIG. 8): a read-only view of one packet, verdicts, the hook contract, and factories of
 * private stages that decide apart from the live path (capture replay).
 */
@Export
@Version("1.5.3")
package org.flexwall.api.packet;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
