package dev.thaw.api.device;

import org.osgi.annotation.versioning.ProviderType;

/** Receives the bytes a guest writes to its console. */
@ProviderType
public interface ConsoleOutput {

    void write(byte[] data, int offset, int length);
}
