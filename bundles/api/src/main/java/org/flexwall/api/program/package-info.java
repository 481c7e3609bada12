/** Trusted programs (the patent's Table 1) and the registry that keeps them. */
@Export
@Version("1.3.0")
package org.flexwall.api.program;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
