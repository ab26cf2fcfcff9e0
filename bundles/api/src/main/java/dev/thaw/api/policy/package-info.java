/**
 * Page policies: small strategies that decide which guest pages a lazy restore loads first. The restore
 * engine owns the fault loop, the claim bitmap and the copying; a policy only answers "what else, with
 * this fault?" and "what next, in the background?". Pages are numbered across all memory regions of a
 * snapshot, region 0's pages first.
 */
@Export
@Version("1.1.0")
package dev.thaw.api.policy;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
