/**
 * Device SPI: emulated devices that live on a VM's port I/O bus. A {@link dev.thaw.api.device.DeviceProvider}
 * service makes one {@link dev.thaw.api.device.Device} per VM.
 */
@Export
@Version("3.0.0")
package dev.thaw.api.device;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
