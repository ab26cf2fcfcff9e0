package dev.thaw.qemu.postcopy.impl;

import dev.thaw.api.migration.ServeRequest;

/**
 * How a source sends, besides its policy (each as {@link ServeRequest} describes it).
 *
 * @param zeroPagesOnRequest a zero page goes only when the destination asks for it, and EOF only after its device
 *     state is loaded
 * @param preloadProfile the profile's pages go before the package
 * @param holdBackground nothing goes unasked (beyond a preload) until {@link PostcopySource#loadRemaining()}
 */
record SourceOptions(boolean zeroPagesOnRequest, boolean preloadProfile, boolean holdBackground) {

    static final SourceOptions DEFAULT = new SourceOptions(false, false, false);

    static SourceOptions of(ServeRequest request) {
        return new SourceOptions(request.zeroPagesOnRequest(), request.preloadProfile(), request.holdBackground());
    }
}
