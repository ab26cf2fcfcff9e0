/**
 * What the vCPU runtimes share beyond the runtime SPI: compiled into each runtime bundle that uses it as a
 * private package (bnd {@code -conditionalpackage}), never exported. Not API: a runtime by a third party
 * needs only {@code dev.thaw.api.runtime}.
 */
package dev.thaw.support.runtime;
