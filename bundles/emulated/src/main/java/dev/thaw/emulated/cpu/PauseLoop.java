package dev.thaw.emulated.cpu;

import java.util.concurrent.locks.LockSupport;

/**
 * PAUSE, treated as KVM's pause-loop exiting treats it: PAUSEs a few instructions apart are a spin loop
 * waiting for a lock or flag that another vCPU will change. The loop spins briefly at full speed, then
 * sleeps a little at each further PAUSE, so a spinning vCPU does not take the host CPU from the vCPU it
 * waits for when the host has fewer cores than the VM has vCPUs. The wake-up is late by about one sleep.
 */
final class PauseLoop {

    /** PAUSEs at most this many instructions apart belong to one spin loop. */
    static final long GAP = 64;
    /** PAUSEs a loop spins before it sleeps: a few microseconds of interpreted spinning. */
    static final int SPINS = 256;
    /** How long each further PAUSE sleeps. */
    static final long SLEEP_NANOS = 50_000;

    private long lastAt = -GAP - 1;
    private int spins;
    private long sleeps;

    /** A PAUSE, the CPU's {@code instructions}-th instruction. */
    void pause(long instructions) {
        if (instructions - lastAt > GAP) {
            spins = 0;
        }
        lastAt = instructions;
        if (++spins <= SPINS) {
            Thread.onSpinWait();
        } else {
            sleeps++;
            LockSupport.parkNanos(SLEEP_NANOS);
        }
    }

    /** PAUSEs that slept. */
    long sleeps() {
        return sleeps;
    }
}
