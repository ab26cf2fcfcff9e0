package dev.thaw.api.bench;

/**
 * One run of a {@link CodeLoopRunner}.
 *
 * @param registers the 16 general registers when RIP reached the code's end, in the encoding's order
 * @param instructions instructions executed from the first byte to the end; -1 where the runner does not
 *     count them (counting would slow it down)
 * @param nanos wall time of the run alone, set-up before and reading the registers after excluded
 */
public record LoopRun(long[] registers, long instructions, long nanos) {

    public LoopRun {
        registers = registers.clone();
    }

    /** The registers at the end (a copy). */
    @Override
    public long[] registers() {
        return registers.clone();
    }
}
