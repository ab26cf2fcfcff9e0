package dev.thaw.devices.impl;

import dev.thaw.api.device.Device;
import dev.thaw.api.device.DeviceContext;
import dev.thaw.api.device.DeviceProvider;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Makes the 16550A UART of each VM (the guest's console). */
@Component(service = DeviceProvider.class, property = DeviceProvider.TYPE_PROPERTY + "=" + Uart16550Provider.TYPE)
@Designate(ocd = Uart16550Provider.Config.class)
public final class Uart16550Provider implements DeviceProvider {

    static final String TYPE = "uart16550";

    @ObjectClassDefinition(name = "Thaw UART", description = "The 16550A serial port that is each guest's console")
    public @interface Config {
        @AttributeDefinition(name = "Base port", description = "First of the UART's 8 I/O ports", min = "0", max = "65528")
        int port() default 0x3f8;

        @AttributeDefinition(name = "IRQ", description = "ISA interrupt line the UART raises", min = "0", max = "23")
        int irq() default 4;
    }

    private final Config config;

    @Activate
    public Uart16550Provider(Config config) {
        this.config = config;
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Device<?> create(DeviceContext context) {
        return new Uart16550(config.port(), context.interruptLine(config.irq()), context.console());
    }
}
