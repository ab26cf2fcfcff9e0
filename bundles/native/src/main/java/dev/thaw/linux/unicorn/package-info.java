/**
 * A thin Panama FFM binding to Unicorn 2 ({@code libunicorn.so.2}, QEMU's TCG CPU as a library; Debian's
 * {@code libunicorn2}): {@link dev.thaw.linux.unicorn.Unicorn} is one engine, each method one C call whose
 * {@code uc_err} becomes a {@link dev.thaw.linux.unicorn.UnicornException} carrying {@code uc_strerror}'s
 * text. Constants are named as in {@code unicorn/unicorn.h} and {@code unicorn/x86.h} (a test compiles them
 * against those headers). No policy: no retries, logging or defaults. Where the library is missing,
 * {@link dev.thaw.linux.unicorn.Unicorn#unavailableReason()} says so in one line naming the package to
 * install, and opening an engine fails with that line.
 *
 * <p>Thaw uses it as the oracle of the emulated vCPU (its differential tests) and as the peer of
 * {@code thaw:bench cpu}.
 */
@Export
@Version("1.0.0")
package dev.thaw.linux.unicorn;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
