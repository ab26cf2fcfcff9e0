#!/usr/bin/env bash
# Installs what ./thaw test needs from Debian when it is missing: Unicorn (the differential oracle of
# the emulated vCPU, libunicorn2; libunicorn-dev for the headers its binding is checked against), QEMU 10 (bookworm-backports: the peer of the benchmarks, the
# writer of the sample files) and kernel headers that know UFFDIO_MOVE (linux-libc-dev 6.12 from bookworm-backports:
# the native bindings' layouts are checked against them). Installs only as root with apt-get; otherwise prints the exact commands
# and fails, because the tests that need these must not skip.
set -euo pipefail

say() { echo "thaw: $*" >&2; }

need_unicorn() { ! ls /usr/lib/x86_64-linux-gnu/libunicorn.so.2* >/dev/null 2>&1 || [ ! -f /usr/include/unicorn/unicorn.h ]; }
need_qemu() {
  local v
  command -v qemu-system-x86_64 >/dev/null 2>&1 || return 0
  v="$(qemu-system-x86_64 --version | sed -n 's/^QEMU emulator version \([0-9]*\).*/\1/p')"
  [ -z "$v" ] || [ "$v" -lt 9 ]
}

need_uapi() { ! grep -qs UFFDIO_MOVE /usr/include/linux/userfaultfd.h; }
need_backports() { need_qemu || need_uapi; }

backports=/etc/apt/sources.list.d/thaw-bookworm-backports.sources
commands=()
need_unicorn && commands+=("apt-get install -y --no-install-recommends libunicorn2 libunicorn-dev")
need_qemu && commands+=("apt-get install -y --no-install-recommends -t bookworm-backports qemu-system-x86 qemu-utils")
need_uapi && commands+=("apt-get install -y --no-install-recommends -t bookworm-backports linux-libc-dev")
[ ${#commands[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "the tests need packages that are missing. As root, run:"
  need_backports && say "  (QEMU 10 and linux-libc-dev 6.12 come from bookworm-backports: add a deb822 source with 'Suites: bookworm-backports' like /etc/apt/sources.list.d/debian.sources)"
  say "  apt-get update"
  for c in "${commands[@]}"; do say "  $c"; done
  exit 1
fi

if need_backports && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  say "adding Debian bookworm-backports as an apt source ($backports), for QEMU 10 and kernel headers"
  cat > "$backports" <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
say "installing what the tests need: ${commands[*]#apt-get install -y --no-install-recommends }"
apt-get update -q >/dev/null
for c in "${commands[@]}"; do
  say "  $c"
  DEBIAN_FRONTEND=noninteractive $c >/dev/null
done
