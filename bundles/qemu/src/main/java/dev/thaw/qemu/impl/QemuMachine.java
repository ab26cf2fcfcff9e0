package dev.thaw.qemu.impl;

import java.util.List;

/**
 * The machine a VM's QEMU emulates, which a restore of its snapshot must start again exactly: a PC whose RAM lies
 * where the test guest's boot parameters say (below {@code lowMemoryLimit}, the rest from 4 GiB), COM1, the debug
 * exit port at 0x501, none of QEMU's default devices.
 *
 * @param type QEMU's machine type: {@code pc} to boot, the versioned type the snapshot names (e.g.
 *     {@code pc-i440fx-10.0}) to restore
 * @param memoryBytes guest RAM, a whole number of MiB
 * @param vcpus number of vCPUs
 * @param lowMemoryLimit RAM below 4 GiB ends here ({@code max-ram-below-4g})
 */
record QemuMachine(String type, long memoryBytes, int vcpus, long lowMemoryLimit) {

    /** {@code isa-debug-exit} makes QEMU exit with {@code (code << 1) | 1} when the guest writes {@code code} to it. */
    static final String DEBUG_EXIT = "isa-debug-exit,iobase=0x501,iosize=4";

    QemuMachine {
        if (memoryBytes <= 0 || memoryBytes % (1 << 20) != 0) {
            throw new IllegalArgumentException("the qemu runtime takes memory in whole MiB, not " + memoryBytes + " bytes");
        }
        if (vcpus < 1) {
            throw new IllegalArgumentException("vcpus must be at least 1, not " + vcpus);
        }
    }

    /** The same machine under the versioned type name a snapshot of it holds. */
    QemuMachine withType(String versioned) {
        return new QemuMachine(versioned, memoryBytes, vcpus, lowMemoryLimit);
    }

    /** QEMU's options for this machine, on accelerator {@code accel} ({@code tcg}, {@code kvm}). */
    List<String> options(String accel) {
        return List.of(
                "-machine", type + ",max-ram-below-4g=" + lowMemoryLimit,
                "-accel", accel,
                "-m", (memoryBytes >> 20) + "M",
                "-smp", String.valueOf(vcpus),
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-device", DEBUG_EXIT);
    }
}
