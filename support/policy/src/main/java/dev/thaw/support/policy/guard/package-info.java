/**
 * How an engine that serves pages guards the page policy it asks (the restore engine, the QEMU postcopy
 * source): answers clipped to guest memory, errors counted with the first kept, slow and hung calls, and the
 * decision to disable the policy. Compiled into those engines as a private package (bnd
 * {@code -conditionalpackage}), never exported; apart from {@code dev.thaw.support.policy} so that the policy
 * bundles, which compile that one in, do not carry it.
 */
package dev.thaw.support.policy.guard;
