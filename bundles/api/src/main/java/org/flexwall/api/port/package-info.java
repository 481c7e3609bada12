/** Listening sockets, their owners, port events (FIG. 7) and the permitted-port store (Table 2). */
@Export
@Version("2.0.1")
package org.flexwall.api.port;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
