package dev.thaw.api.device;

import org.osgi.annotation.versioning.ProviderType;

/** A level-driven interrupt line: a device holds it high while it has an interrupt pending. */
@ProviderType
public interface InterruptLine {

    void setLevel(boolean high);
}
