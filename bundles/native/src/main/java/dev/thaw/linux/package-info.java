/**
 * Thin Panama FFM bindings to the parts of Linux libc Thaw needs: file descriptors, memory mappings, memfds,
 * signals, named pipes, {@code eventfd}, {@code poll} and {@code userfaultfd(2)}. Every call captures {@code errno}
 * and turns a failure into an {@link dev.thaw.linux.ErrnoException} naming the call and the errno.
 * No policy lives here: no retries, no logging, no defaults.
 *
 * <p>The calling JVM must allow native access to this code: {@code --enable-native-access=ALL-UNNAMED}
 * (bundles and class-path code are unnamed modules).
 */
@Export
@Version("1.2.0")
package dev.thaw.linux;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
