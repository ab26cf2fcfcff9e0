package dev.thaw.linux.internal;

import java.lang.foreign.StructLayout;
import java.util.List;

/**
 * Every struct layout Thaw passes to the kernel, each named after its C type. The layout test walks
 * this list, generates a C program printing sizeof/offsetof for every named member, and compares.
 */
public final class Structs {

    public static final List<StructLayout> ALL = List.of(
            KvmRegs.LAYOUT, KvmSegment.LAYOUT, KvmDtable.LAYOUT, KvmSregs.LAYOUT, KvmFpu.LAYOUT,
            KvmXsave.LAYOUT, KvmXcr.LAYOUT, KvmXcrs.LAYOUT, KvmDebugregs.LAYOUT, KvmLapicState.LAYOUT,
            KvmMsrEntry.LAYOUT, KvmMsrs.LAYOUT, KvmMsrList.LAYOUT, KvmVcpuEvents.LAYOUT, KvmMpState.LAYOUT,
            KvmCpuidEntry2.LAYOUT, KvmCpuid2.LAYOUT, KvmPicState.LAYOUT, KvmIoapicState.LAYOUT,
            KvmIrqchip.LAYOUT, KvmPitChannelState.LAYOUT, KvmPitState2.LAYOUT, KvmPitConfig.LAYOUT,
            KvmClockData.LAYOUT, KvmUserspaceMemoryRegion.LAYOUT, KvmIrqLevel.LAYOUT, KvmSignalMask.LAYOUT,
            KvmRunLayout.LAYOUT,
            UffdioApi.LAYOUT, UffdioRange.LAYOUT, UffdioRegister.LAYOUT, UffdioCopy.LAYOUT,
            UffdioZeropage.LAYOUT, UffdioWriteprotect.LAYOUT, UffdioContinue.LAYOUT, UffdioMove.LAYOUT, UffdMsg.LAYOUT,
            PollFd.LAYOUT, SigsetT.LAYOUT, Timespec.LAYOUT, Stat.LAYOUT);

    private Structs() {}
}
