package dev.thaw.devices.impl;

import dev.thaw.api.device.Device;
import dev.thaw.api.device.DeviceContext;
import dev.thaw.api.device.DeviceProvider;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Makes the debug-exit port of each VM. */
@Component(service = DeviceProvider.class, property = DeviceProvider.TYPE_PROPERTY + "=" + DebugExitProvider.TYPE)
@Designate(ocd = DebugExitProvider.Config.class)
public final class DebugExitProvider implements DeviceProvider {

    static final String TYPE = "debug-exit";

    @ObjectClassDefinition(name = "Thaw debug-exit port", description = "A port through which the guest reports its exit code")
    public @interface Config {
        @AttributeDefinition(name = "Port", min = "0", max = "65535")
        int port() default 0x501;
    }

    private final Config config;

    @Activate
    public DebugExitProvider(Config config) {
        this.config = config;
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Device<?> create(DeviceContext context) {
        return new DebugExit(config.port(), context);
    }
}
