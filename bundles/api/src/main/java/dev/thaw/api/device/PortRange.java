package dev.thaw.api.device;

/** A contiguous range of I/O ports, {@code base} to {@code base + length - 1}. */
public record PortRange(int base, int length) {
    public PortRange {
        if (base < 0 || length <= 0 || base + length > 0x10000) {
            throw new IllegalArgumentException("port range " + base + "+" + length + " is outside 0..0xffff");
        }
    }

    public boolean contains(int port) {
        return port >= base && port < base + length;
    }

    public boolean overlaps(PortRange other) {
        return base < other.base + other.length && other.base < base + length;
    }
}
