/**
 * Benchmarks that measure side by side in one run, on this machine: restore modes, with the names of
 * docs/restore-figures.md, fleets of VMs from one snapshot sharing its pages or not, and the vCPU runtimes'
 * speed on the test guest's code. A shell command presents the report; the benchmark writes it to its
 * results folder too.
 * {@link dev.thaw.api.bench.CodeLoopRunner} is what a CPU model offers such a benchmark: a loop of
 * machine code run alone.
 */
@Export
@Version("1.8.0")
package dev.thaw.api.bench;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
