/**
 * Lazy restore: the engine that resumes a guest before its memory is loaded. A caller registers guest
 * memory with {@link LazyRestorer#start} before the vCPUs start, starts them, tells the handle
 * ({@link LazyRestore#resumed()}), and watches {@link LazyRestore#stats()} and
 * {@link LazyRestore#completion()}. Page policies ({@code dev.thaw.api.policy}) decide what is loaded first.
 * A fleet of restores from one snapshot can share its pages through a {@link SharedPageCache}.
 */
@Export
@Version("2.1.0")
package dev.thaw.api.restore;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
