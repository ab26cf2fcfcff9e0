package dev.thaw.restore.impl;

import dev.thaw.api.restore.RestoreStats.Phase;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Where a restore is, in one atomic value: its stage, and whether what served it has been released.
 *
 * <pre>
 * RECORDING --profile saved--> LOADING --every page in--> COMPLETE
 * RECORDING | LOADING --a failure--> FAILING (the caller is told) --> FAILED
 * RECORDING | LOADING --close--> CLOSED
 * </pre>
 *
 * Only an active stage (RECORDING, LOADING) moves, so a failure after the end or the close changes
 * nothing. Release happens once, in any stage; releasing an active restore closes it.
 */
final class RestorePhase {

    enum Stage { RECORDING, LOADING, COMPLETE, FAILING, FAILED, CLOSED }

    private record State(Stage stage, boolean released) {}

    private final AtomicReference<State> state;

    RestorePhase(boolean recording) {
        state = new AtomicReference<>(new State(recording ? Stage.RECORDING : Stage.LOADING, false));
    }

    Stage stage() {
        return state.get().stage();
    }

    private static boolean active(Stage s) {
        return s == Stage.RECORDING || s == Stage.LOADING;
    }

    /** Recording or loading: pages are served and loaded. */
    boolean active() {
        return active(stage());
    }

    boolean recording() {
        return stage() == Stage.RECORDING;
    }

    /** Whether the fault service goes on: until the restore completed, failed (its caller told) or closed. */
    boolean serving() {
        Stage s = stage();
        return active(s) || s == Stage.FAILING;
    }

    /** RECORDING to LOADING; false if not recording. */
    boolean endRecording() {
        return move(Stage.RECORDING, Stage.RECORDING, Stage.LOADING);
    }

    /** Active to COMPLETE; false (for all but one caller) if not active. */
    boolean complete() {
        return move(Stage.RECORDING, Stage.LOADING, Stage.COMPLETE);
    }

    /** Active to FAILING; false if not active: a restore fails once, and never after it ended. */
    boolean startFailing() {
        return move(Stage.RECORDING, Stage.LOADING, Stage.FAILING);
    }

    /** FAILING to FAILED: the caller has been told. */
    void failed() {
        move(Stage.FAILING, Stage.FAILING, Stage.FAILED);
    }

    /** Active to CLOSED; false if not active. */
    boolean close() {
        return move(Stage.RECORDING, Stage.LOADING, Stage.CLOSED);
    }

    /** Marks the restore released; true for the one caller that does so. An active restore is closed. */
    boolean release() {
        while (true) {
            State s = state.get();
            if (s.released()) {
                return false;
            }
            if (state.compareAndSet(s, new State(active(s.stage()) ? Stage.CLOSED : s.stage(), true))) {
                return true;
            }
        }
    }

    private boolean move(Stage from, Stage orFrom, Stage to) {
        while (true) {
            State s = state.get();
            if (s.stage() != from && s.stage() != orFrom) {
                return false;
            }
            if (state.compareAndSet(s, new State(to, s.released()))) {
                return true;
            }
        }
    }

    /** The phase the figures report: a failure is FAILED from its first moment. */
    Phase reported() {
        return switch (stage()) {
            case RECORDING -> Phase.RECORDING;
            case LOADING -> Phase.LOADING;
            case COMPLETE -> Phase.COMPLETE;
            case FAILING, FAILED -> Phase.FAILED;
            case CLOSED -> Phase.CLOSED;
        };
    }
}
