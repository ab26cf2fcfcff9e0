package dev.thaw.emulated.cpu;

/**
 * What one vCPU's interpreter reaches outside guest RAM: the port bus and memory-mapped devices (its
 * own local APIC page among them). Called on the vCPU's thread, one access at a time; values are
 * little-endian and zero-extended. Implemented by the runtime that runs the interpreter.
 */
public interface CpuBus {

    /** An {@code in} of {@code size} bytes (1, 2 or 4); string I/O arrives one element at a time. */
    long portRead(int port, int size);

    /** An {@code out} of {@code size} bytes (1, 2 or 4). */
    void portWrite(int port, int size, long value);

    /** A read of {@code size} bytes (1 to 8) at a guest physical address that is not RAM. */
    long mmioRead(long address, int size);

    /** A write of {@code size} bytes (1 to 8) at a guest physical address that is not RAM. */
    void mmioWrite(long address, int size, long value);
}
