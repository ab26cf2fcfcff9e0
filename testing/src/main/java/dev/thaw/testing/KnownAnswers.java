package dev.thaw.testing;

import dev.thaw.api.vm.BootRequest;
import dev.thaw.api.vm.TouchOrder;
import dev.thaw.api.vm.Workload;
import java.util.List;

/**
 * The test guest's known answers (guest/README.md, "Example values"): the boot requests and the result lines
 * every runtime must print for them. They were computed by reference implementations independent of the
 * guest (the bench bundle's fill loop recomputes the fill answer), so a runtime whose CPU, memory or devices
 * go wrong prints something else.
 */
public final class KnownAnswers {

    /** {@code fill}: 64 MiB, seed 1; the same answer for any vCPU count. */
    public static final String FILL = "result fill a984f427d1253169";
    public static final long FILL_MEMORY = 64L << 20;

    /** {@code touch}: 256 MiB, seed 7, a 32 MiB working set; the strided order with a stride of 3 pages. */
    public static final long TOUCH_MEMORY = 256L << 20;
    public static final long TOUCH_WORKING_SET = 32L << 20;
    public static final long TOUCH_STRIDE = 3 * 4096;

    /** {@code function}: 256 MiB, seed 42, a 32 MiB working set. */
    public static final long FUNCTION_MEMORY = 256L << 20;
    public static final long FUNCTION_WORKING_SET = 32L << 20;
    /** The result of the initial fill, then of invocations 1, 2 and 3. */
    public static final List<String> FUNCTION = List.of(
            "result function e016509f7aa8e586",
            "result function 6c71a93ec3e9c7ee",
            "result function 2f3a6c86c9bbb019",
            "result function 0bd8172ee3aec3cd");
    /**
     * {@code function} keeping 128 MiB filled of which each invocation reads its 32 MiB: a guest whose memory holds
     * much more than a call touches. Its init hashes the 128 MiB; its invocations read pages that hold what they hold
     * without the resident set, so they answer as {@link #FUNCTION} does.
     */
    public static final long FUNCTION_RESIDENT = 128L << 20;
    public static final List<String> FUNCTION_WITH_RESIDENT = List.of(
            "result function dda45d54f26733b0",
            "result function 6c71a93ec3e9c7ee",
            "result function 2f3a6c86c9bbb019",
            "result function 0bd8172ee3aec3cd");
    /**
     * {@code function} writing in 10% of the pages each invocation reads: a serverless guest that reads much of its
     * memory and writes little. Invocation 1 reads the init's pattern either way, so it answers as {@link #FUNCTION}
     * does; from invocation 2 on the memory differs.
     */
    public static final int FUNCTION_WRITE_PERCENT = 10;
    public static final List<String> FUNCTION_WRITING_10_PERCENT = List.of(
            "result function e016509f7aa8e586",
            "result function 6c71a93ec3e9c7ee",
            "result function a1109b6739efaef1",
            "result function 263713b9fa61c334");

    /**
     * A {@code function} case whose answers are known: 256 MiB, seed 42, a 32 MiB working set, and a resident set and
     * write percent.
     *
     * @param residentBytes the memory the init fills ({@link BootRequest#RESIDENT_AS_WORKING_SET}: the working set)
     * @param writePercent the share of the pages an invocation reads that it writes
     * @param answers the init's result, then invocations 1, 2 and 3's
     */
    public record FunctionCase(long residentBytes, int writePercent, List<String> answers) {

        /** The boot request of this case. */
        public BootRequest request(String name, int vcpus) {
            return new BootRequest(name, FUNCTION_MEMORY, vcpus, Workload.FUNCTION, 42, FUNCTION_WORKING_SET, TouchOrder.SEQUENTIAL,
                    4096, residentBytes, writePercent);
        }

        /** Names the case in a parameterized test's display name. */
        @Override
        public String toString() {
            return "resident set " + (residentBytes >> 20) + " MiB, write percent " + writePercent;
        }
    }

    /** The {@code function} cases whose answers are known: the defaults, {@link #FUNCTION_RESIDENT}, {@link #FUNCTION_WRITE_PERCENT}. */
    public static final List<FunctionCase> FUNCTION_CASES = List.of(
            new FunctionCase(BootRequest.RESIDENT_AS_WORKING_SET, BootRequest.WRITE_ALL, FUNCTION),
            new FunctionCase(FUNCTION_RESIDENT, BootRequest.WRITE_ALL, FUNCTION_WITH_RESIDENT),
            new FunctionCase(BootRequest.RESIDENT_AS_WORKING_SET, FUNCTION_WRITE_PERCENT, FUNCTION_WRITING_10_PERCENT));

    private KnownAnswers() {}

    public static BootRequest fill(String name, int vcpus) {
        return new BootRequest(name, FILL_MEMORY, vcpus, Workload.FILL, 1, 4096, TouchOrder.SEQUENTIAL, 4096);
    }

    public static BootRequest touch(String name, TouchOrder order) {
        return new BootRequest(name, TOUCH_MEMORY, 1, Workload.TOUCH, 7, TOUCH_WORKING_SET, order, TOUCH_STRIDE);
    }

    public static String touch(TouchOrder order) {
        return switch (order) {
            case SEQUENTIAL -> "result touch 8de0d17337370957";
            case RANDOM -> "result touch 7545c2853a48c2aa";
            case STRIDED -> "result touch 64c1981362201b5d";
        };
    }

    /** {@code function} with the defaults, whose answers are {@link #FUNCTION}. */
    public static BootRequest function(String name, int vcpus) {
        return FUNCTION_CASES.get(0).request(name, vcpus);
    }
}
