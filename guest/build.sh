#!/bin/sh
# Build the Thaw test guest: guest/build.sh OUTDIR  ->  OUTDIR/thaw-guest.bin
# Reproducible: the same bytes on every run and from any checkout path
# (no debug info, no build id, fixed link order, flat binary).
# Set THAW_GUEST_ELF=path to also keep the linked ELF (symbols, for debugging).
set -eu
if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
src_dir=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
out_dir=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
export LC_ALL=C
CC=${CC:-gcc}
LD=${LD:-ld}
OBJCOPY=${OBJCOPY:-objcopy}

cd "$src_dir"
for f in entry.S kernel.c lib.c map.c user.c; do
	"$CC" -std=gnu11 -O2 -Wall -Wextra \
		-ffreestanding -fno-builtin -nostdlib -fno-pic -fno-pie -mcmodel=small \
		-fno-stack-protector -mno-red-zone -mgeneral-regs-only \
		-fno-asynchronous-unwind-tables -fno-unwind-tables -fcf-protection=none \
		-fno-zero-initialized-in-bss -fno-common -fno-tree-loop-distribute-patterns \
		-fno-ident -ffile-prefix-map="$src_dir"=guest \
		-c "src/$f" -o "$work/${f%.*}.o"
done
"$LD" -m elf_x86_64 -static -nostdlib --build-id=none --orphan-handling=error --no-warn-rwx-segments \
	-T linker.ld -o "$work/thaw-guest.elf" \
	"$work/entry.o" "$work/kernel.o" "$work/lib.o" "$work/map.o" "$work/user.o"
"$OBJCOPY" -O binary "$work/thaw-guest.elf" "$work/thaw-guest.bin"
if [ -n "${THAW_GUEST_ELF:-}" ]; then
	cp "$work/thaw-guest.elf" "$THAW_GUEST_ELF"
fi
chmod 644 "$work/thaw-guest.bin"
mv "$work/thaw-guest.bin" "$out_dir/thaw-guest.bin"
