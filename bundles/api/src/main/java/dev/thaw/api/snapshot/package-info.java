/**
 * Snapshots: the machine state records a snapshot holds, the writer of Thaw's format, and the reader SPI
 * every snapshot format implements (found by probing a file's content).
 */
@Export
@Version("1.3.0")
package dev.thaw.api.snapshot;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
