package dev.thaw.api.migration;

import java.nio.file.Path;
import java.util.Map;

/**
 * What to serve, to whom, in which order, and the working-set profiles it reads and records
 * (docs/working-set-profile.md).
 *
 * @param file a QEMU mapped-ram file
 * @param offset the byte of {@code file} the snapshot starts at (QEMU's {@code file:PATH,offset=N}), else 0
 * @param destination the incoming QEMU's address, as its {@code -incoming} names it: {@code unix:PATH} or
 *     {@code tcp:HOST:PORT}; it listens, Thaw connects
 * @param policy the name of the installed page policy that orders the pages not asked for
 * @param parameters what the policy's session reads from {@code RestoreView.parameters()}
 * @param profile a working-set profile of {@code file} for the policy ({@code RestoreView.workingSet()}, which
 *     {@code hot-page-first} sends first); null for none. A file that does not exist is no profile; one recorded
 *     on another snapshot, or that cannot be read, is ignored with a warning ({@link PostcopyServe#warnings()}),
 *     as a restore ignores it
 * @param recordProfileTo where to write the profile this serve records: the destination's page requests in the
 *     order they first came (its guest's first touches; pages it had before it touched them are not asked for),
 *     written when the destination completes or at {@link PostcopyServe#saveProfile()}; null to record none
 * @param zeroPagesOnRequest send a page the file does not hold (a zero page) only when the destination asks for it,
 *     and end the stream only after the destination has loaded its device state; the pages never sent read as
 *     zeros once QEMU has ended postcopy. Only where that holds: a QEMU 9.x to 10.1 whose guest RAM is anonymous
 *     private memory, as QEMU has it without a {@code memory-backend} ({@code docs/qemu-postcopy.md} 10.2). False:
 *     every page goes, zero pages as ZERO records, which any destination takes
 * @param preloadProfile send the pages of {@code profile} (its zero pages too) before the device state, so that the
 *     destination's guest runs only once it has them, loaded and touched by QEMU's own load: its resume waits for
 *     them, and its first touches of them cost nothing more. Without a usable profile, nothing is preloaded
 * @param holdBackground send nothing the destination does not ask for (beyond a preload) until
 *     {@link PostcopyServe#startBackground()} or {@link PostcopyServe#loadRemaining()}: for a caller that knows when
 *     its guest's first work is done, so that sending the rest takes no CPU from it before. The serve completes only
 *     after one of those calls
 * @param readerThreads threads that read the pages from the file (1 to {@value #MAX_READER_THREADS}), the sending
 *     thread among them: more keep several reads in flight where the file is not in the page cache. One connection
 *     carries the stream whatever their number
 */
public record ServeRequest(Path file, long offset, String destination, String policy, Map<String, Object> parameters,
        Path profile, Path recordProfileTo, boolean zeroPagesOnRequest, boolean preloadProfile, boolean holdBackground,
        int readerThreads) {

    public static final int MAX_READER_THREADS = 64;

    public ServeRequest {
        parameters = Map.copyOf(parameters);
        if (readerThreads < 1 || readerThreads > MAX_READER_THREADS) {
            throw new IllegalArgumentException("reader threads must be 1 to " + MAX_READER_THREADS + ", not " + readerThreads);
        }
    }



    /** A request that sends every page. */
    public ServeRequest(Path file, long offset, String destination, String policy, Map<String, Object> parameters,
            Path profile, Path recordProfileTo) {
        this(file, offset, destination, policy, parameters, profile, recordProfileTo, false, false, false, 1);
    }

    /** A request that reads no profile, records none and sends every page. */
    public ServeRequest(Path file, long offset, String destination, String policy, Map<String, Object> parameters) {
        this(file, offset, destination, policy, parameters, null, null, false, false, false, 1);
    }

    /** This request reading the working-set profile {@code profile} (null: none). */
    public ServeRequest withProfile(Path profile) {
        return new ServeRequest(file, offset, destination, policy, parameters, profile, recordProfileTo, zeroPagesOnRequest,
                preloadProfile, holdBackground, readerThreads);
    }

    /** This request recording a working-set profile into {@code file} (null: none). */
    public ServeRequest withRecordProfileTo(Path file) {
        return new ServeRequest(this.file, offset, destination, policy, parameters, profile, file, zeroPagesOnRequest,
                preloadProfile, holdBackground, readerThreads);
    }

    /** This request sending zero pages only when asked for ({@code on}), or every page. */
    public ServeRequest withZeroPagesOnRequest(boolean on) {
        return new ServeRequest(file, offset, destination, policy, parameters, profile, recordProfileTo, on, preloadProfile,
                holdBackground, readerThreads);
    }

    /** This request sending the profile's pages before the device state ({@code on}), or none. */
    public ServeRequest withPreloadProfile(boolean on) {
        return new ServeRequest(file, offset, destination, policy, parameters, profile, recordProfileTo, zeroPagesOnRequest, on,
                holdBackground, readerThreads);
    }

    /** This request holding back what the destination does not ask for until {@code startBackground()} ({@code on}), or not. */
    public ServeRequest withHoldBackground(boolean on) {
        return new ServeRequest(file, offset, destination, policy, parameters, profile, recordProfileTo, zeroPagesOnRequest,
                preloadProfile, on, readerThreads);
    }

    /** This request reading the file on {@code threads} threads. */
    public ServeRequest withReaderThreads(int threads) {
        return new ServeRequest(file, offset, destination, policy, parameters, profile, recordProfileTo, zeroPagesOnRequest,
                preloadProfile, holdBackground, threads);
    }
}
