#!/usr/bin/env bash
# libsrtp 2.5 built on OpenSSL (Debian's binary uses NSS: 5-10x slower SRTP,
# 5x the memory per session). Fetches Debian's own source package and unpacks
# it as the meson subproject subprojects/libsrtp2-openssl; gateway/webrtc/meson.build
# builds it with crypto-library=openssl, or falls back to the system library
# (with a message) when this step could not run. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
DEST=subprojects/libsrtp2-openssl

# Our patches (tools/setup.d/libsrtp-*.patch), once each; one that does not
# apply (another libsrtp version) is left out with a message.
apply_patches() {
  local p name
  for p in tools/setup.d/libsrtp-*.patch; do
    [ -e "$p" ] || continue
    name=$(basename "$p")
    [ -e "$DEST/.hallcast-$name" ] && continue
    if patch -d "$DEST" -p1 --forward --silent --dry-run < "$p" >/dev/null 2>&1; then
      patch -d "$DEST" -p1 --forward --silent < "$p" && touch "$DEST/.hallcast-$name"
    else
      echo "setup: libsrtp.sh: $name does not apply to this libsrtp; left out" >&2
    fi
  done
}

if [ -f "$DEST/meson.build" ]; then
  apply_patches
  exit 0
fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# A deb-src entry for Debian's archive, if apt has none for bookworm main.
if ! apt-get source --print-uris libsrtp2 >/dev/null 2>&1; then
  as_root tee /etc/apt/sources.list.d/hallcast-debian-src.sources >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  as_root apt-get update -qq || true
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && apt-get source --download-only -qq libsrtp2 >/dev/null 2>&1); then
  echo "setup: libsrtp.sh: cannot fetch Debian's libsrtp2 source; the build will use the" \
    "system libsrtp2 (NSS)" >&2
  exit 0
fi
orig=$(ls "$work"/libsrtp2_*.orig.tar.* | head -n 1)
mkdir -p "$DEST.tmp"
tar -xf "$orig" -C "$DEST.tmp" --strip-components=1
if [ ! -f "$DEST.tmp/meson.build" ] || ! grep -q crypto-library "$DEST.tmp/meson_options.txt"; then
  echo "setup: libsrtp.sh: $orig has no meson build with crypto-library; using the system libsrtp2" >&2
  rm -rf "$DEST.tmp"
  exit 0
fi
rm -rf "$DEST"
mv "$DEST.tmp" "$DEST"
apply_patches
echo "setup: libsrtp2 $(basename "$orig") unpacked into $DEST (built on OpenSSL by meson)"
