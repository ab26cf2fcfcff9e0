package dev.thaw.qemu.postcopy.impl;

import dev.thaw.api.migration.ServeRequest;

/**
 * How a source sends, besides its policy (each as {@link ServeRequest} describes it).
 *
 * @param zeroPagesOnRequest a zero page goes only when the destination asks for it, and EOF only after its device
 *     state is loaded
 * @param preloadProfile the profile's pages go before the package
 * @param holdBackground nothing goes unasked (beyond a preload) until {@link PostcopySource#startBackground()} or
 *     {@link PostcopySource#loadRemaining()}
 * @param readerThreads threads that read pages from the file ({@link PageReaders}), the sender's own among them
 */
record SourceOptions(boolean zeroPagesOnRequest, boolean preloadProfile, boolean holdBackground, int readerThreads) {

    static SourceOptions of(ServeRequest request) {
        return new SourceOptions(request.zeroPagesOnRequest(), request.preloadProfile(), request.holdBackground(),
                request.readerThreads());
    }
}
