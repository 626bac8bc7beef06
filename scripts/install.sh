#!/bin/sh
# Installs tools-backup from its release files: picks the binary for this machine, checks it
# against SHA256SUMS, and puts it in place with one rename, so a failed or interrupted install
# leaves the old binary as it was. An installed schedule is pointed at the new binary.
#
#   sh install.sh [--prefix DIR] [--from DIR|URL]
#
# --prefix: where the binary goes (default ~/.local/bin). --from: where the release files are
# (default $TOOLS_BACKUP_RELEASE, else the folder holding this script).
set -eu

fail() {
  echo "install.sh: $1" >&2
  exit 1
}

usage() {
  sed -n '6,9p' "$0" | sed 's/^# \{0,1\}//'
}

prefix="${HOME}/.local/bin"
from="${TOOLS_BACKUP_RELEASE:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || { echo "install.sh: --prefix needs a folder" >&2; exit 2; }; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#--prefix=}; shift ;;
    --from) [ $# -ge 2 ] || { echo "install.sh: --from needs a folder or URL" >&2; exit 2; }; from=$2; shift 2 ;;
    --from=*) from=${1#--from=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
[ -n "$from" ] || from=$(cd "$(dirname "$0")" && pwd)

os=$(uname -s)
arch=$(uname -m)
case "$os" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) fail "no release binary for $os: there are binaries for Linux and macOS" ;;
esac
case "$arch" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) fail "no release binary for the $arch processor: there are binaries for x86_64 and arm64" ;;
esac
libc=
if [ "$os" = linux ] && { ls /lib/ld-musl-* >/dev/null 2>&1 || ldd --version 2>&1 | grep -qi musl; }; then
  libc=-musl
fi
name="tools-backup-$os-$arch$libc"

fetch() {
  case "$from" in
    http://* | https://*)
      if command -v curl >/dev/null 2>&1; then curl -fsSL "$from/$1" -o "$2"
      elif command -v wget >/dev/null 2>&1; then wget -q "$from/$1" -O "$2"
      else fail "downloading needs curl or wget"
      fi ;;
    *) cp "$from/$1" "$2" ;;
  esac
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

mkdir -p "$prefix"
dest="$prefix/tools-backup"
tmp="$prefix/.tools-backup.tmp.$$"
sums="$prefix/.tools-backup.sums.$$"
trap 'rm -f "$tmp" "$sums"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fetch SHA256SUMS "$sums" 2>/dev/null || fail "cannot read SHA256SUMS from $from"
want=$(awk -v n="$name" '$2 == n { print $1 }' "$sums")
[ -n "$want" ] || fail "SHA256SUMS in $from lists no $name"
fetch "$name" "$tmp" 2>/dev/null || fail "cannot read $name from $from"
got=$(sha256 "$tmp")
[ "$got" = "$want" ] || fail "$name does not match SHA256SUMS (sha256 $got, expected $want); nothing was installed"
chmod 755 "$tmp"
"$tmp" --version >/dev/null 2>&1 || fail "$name does not run on this machine; nothing was installed"
mv -f "$tmp" "$dest"
echo "installed $dest: $("$dest" --version)"

# A schedule installed by an older binary, perhaps from another place, runs this one from now on.
if command -v crontab >/dev/null 2>&1 && crontab -l 2>/dev/null | grep -q '^# tools-backup: scheduled backup'; then
  "$dest" cron relink
fi
case ":$PATH:" in
  *":$prefix:"*) ;;
  *) echo "note: $prefix is not on your PATH; add it, or run $dest" ;;
esac
