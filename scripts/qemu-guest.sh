#!/bin/bash
# Boots the Thaw test guest in QEMU (TCG), its COM1 on this terminal:
#   scripts/qemu-guest.sh WORKLOAD [memory=MiB] [vcpus=N] [seed=N] [working-set=MiB]
#                         [order=sequential|random|strided] [stride-pages=N]
# The boot parameters page comes from the machine bundle's own encoder (QemuGuest in its tests), so
# build that first: mvn -B -ntp -o -pl bundles/machine -am install -DskipTests
# Files go to $THAW_QEMU_DIR (default: a new temporary folder). QEMU's exit status is 2 x the guest's
# exit code + 1; Ctrl-C ends it (function never exits: type "invoke" and Enter to run an invocation).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
classes=(bundles/machine/target/classes bundles/machine/target/test-classes bundles/api/target/classes)
cp=
for c in "${classes[@]}"; do
	if [ ! -d "$root/$c" ]; then
		echo "qemu-guest: $root/$c is missing: build with mvn -B -ntp -o -pl bundles/machine -am install -DskipTests" >&2
		exit 2
	fi
	cp=${cp:+$cp:}$root/$c
done
dir=${THAW_QEMU_DIR:-$(mktemp -d -t thaw-qemu-guest.XXXXXX)}
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
major=$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1)
if [ -z "$major" ] || [ "$major" -lt 25 ]; then
	echo "qemu-guest: $java is Java ${major:-of unknown version}; the built classes need 25 or newer: set JAVA_HOME to a JDK 25" >&2
	exit 2
fi
out=$("$java" -cp "$cp" dev.thaw.machine.impl.QemuGuest "$dir" "$@")
mapfile -t cmd <<<"$out"
echo "${cmd[*]}" >&2
exec "${cmd[@]}"
