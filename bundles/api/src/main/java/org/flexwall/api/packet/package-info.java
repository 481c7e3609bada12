/** The packet path (FIG. 6 and FIG. 8): a read-only view of one packet, verdicts, and the hook contract. */
@Export
@Version("1.5.0")
package org.flexwall.api.packet;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
