package dev.thaw.kvm.impl;

import dev.thaw.linux.Libc;
import dev.thaw.support.runtime.VcpuThreadPool;

/**
 * The kick signal's part in the KVM runtime's vCPU threads: every pool thread blocks
 * {@link VcpuThreads#KICK_SIGNAL} once, at its start, and knows its mask and kernel thread id; a runner
 * only gives KVM its KVM_RUN mask (see {@link VcpuRunner}). When a runner ends, its thread takes any kick
 * left pending before it waits for the next one. Blocking the signal adds to a thread's start, which the
 * pool does before the thread is needed.
 */
final class KickSignal implements VcpuThreadPool.ThreadSetUp<KickSignal.Blocked> {

    static final long KICK_BIT = Libc.sigbit(VcpuThreads.KICK_SIGNAL);
    /** Waiting threads are named {@code thaw-vcpu-pool-<n>}; only a running vCPU's is {@code vcpu-...}. */
    static final String POOL_NAME = "thaw-vcpu-pool";

    /**
     * A pool thread with the kick signal blocked.
     *
     * @param mask the thread's signal mask before it blocked the kick signal
     * @param tid its kernel thread id, for tgkill
     */
    record Blocked(long mask, int tid) {}

    /** The KVM runtime's pool of vCPU threads. */
    static VcpuThreadPool<Blocked> newPool() {
        return new VcpuThreadPool<>(POOL_NAME, new KickSignal());
    }

    @Override
    public Blocked start() {
        long mask = Libc.pthreadSigmask(Libc.SIG_BLOCK, KICK_BIT);
        return new Blocked(mask, Libc.gettid());
    }

    @Override
    public void release(Blocked thread) {
        VcpuRunner.drainKicks();
    }
}
