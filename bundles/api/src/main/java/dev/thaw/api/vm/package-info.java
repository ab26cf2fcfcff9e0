/**
 * Running VMs of the Thaw test guest: booting them, listing, their consoles and invocations; and the runtimes that
 * run whole VMs in a process of their own ({@link dev.thaw.api.vm.ProcessRuntime}).
 */
@Export
@Version("2.1.0")
package dev.thaw.api.vm;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
