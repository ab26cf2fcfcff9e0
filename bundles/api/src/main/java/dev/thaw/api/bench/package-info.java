/**
 * Benchmarks that measure restore modes side by side in one run, on this machine, with the names
 * DESIGN.md gives ("What is measured"). A shell command presents the report; the benchmark writes it
 * to its results folder too.
 */
@Export
@Version("1.1.0")
package dev.thaw.api.bench;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
