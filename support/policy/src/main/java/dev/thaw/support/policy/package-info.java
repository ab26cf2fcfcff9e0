/**
 * What Thaw's own page policies share beyond the policy SPI: compiled into each policy bundle that uses it as
 * a private package (bnd {@code -conditionalpackage}), never exported. Not API: a third party's policy needs
 * only {@code dev.thaw.api.policy}.
 */
package dev.thaw.support.policy;
