/**
 * The audit trail: who changed trust and when, and every port flexwall opened or closed, kept crash-safe on disk and
 * read newest first by the CLI, the Gogo shell and the console.
 */
@Export
@Version("1.0.0")
package org.flexwall.api.audit;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
