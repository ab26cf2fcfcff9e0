/** Running VMs of the Thaw test guest: booting them, listing, their consoles and invocations. */
@Export
@Version("2.0.0")
package dev.thaw.api.vm;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
