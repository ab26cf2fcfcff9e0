/**
 * x86 KVM state of a VM and its vCPUs as immutable records of plain values, ready to be serialized
 * (Jackson) into a snapshot and handed back to KVM on restore.
 *
 * <p>Conventions, the same in every record here:
 * <ul>
 *   <li>Each record mirrors one kernel struct ({@code asm/kvm.h}); components are named after the C
 *       fields, in camel case.</li>
 *   <li>Unsigned C fields are held zero-extended: {@code __u8} and {@code __u16} in an {@code int},
 *       {@code __u32} in a {@code long}; {@code __u64} in a {@code long} (two's complement above
 *       2<sup>63</sup>). Values outside the C field's range are rejected when written to KVM.</li>
 *   <li>Where the kernel struct is an opaque blob (the XSAVE area, the local APIC page, FPU registers)
 *       the record holds a byte array; records with arrays copy them in and out and compare them by
 *       content.</li>
 *   <li>Padding and reserved C fields are not modelled; they are written as zero.</li>
 *   <li>No host resources appear here: no file descriptors, host addresses or wall-clock instants.</li>
 * </ul>
 */
@Export
@Version("1.1.0")
package dev.thaw.api.state;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
