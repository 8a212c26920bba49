#!/usr/bin/env bash
# hallcast set-up for a fresh Debian bookworm machine: installs the Debian
# packages of tools/debian-packages.txt that are missing, runs every
# tools/setup.d/*.sh step (extra sources such as libsrtp), fetches the web
# client's npm packages and builds into ./build.
#   tools/setup.sh run    build, then start the gateway on its embedded default
#   tools/setup.sh build  build only
#   tools/setup.sh test   build, then run every test suite (tools/run-tests)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
mode=${1:-build}
BUILD=${HC_BUILD_DIR:-$ROOT/build}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install_packages() {
  local groups="build run"
  [ "$mode" = test ] && groups="build run test"
  local want=() missing=()
  for g in $groups; do
    while read -r grp pkg; do
      [ "$grp" = "$g" ] && want+=("$pkg")
    done < <(grep -v '^#' tools/debian-packages.txt)
  done
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  fi
}

install_packages
for step in tools/setup.d/*.sh; do
  [ -e "$step" ] || continue
  HC_SETUP_MODE=$mode bash "$step"
done
if [ ! -d web-client/node_modules/hls.js ]; then
  (cd web-client && npm ci --no-audit --no-fund --loglevel=error)
fi
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" -Dwerror=true >/dev/null
fi
ninja -C "$BUILD" >/dev/null

case "$mode" in
  run) exec "$BUILD/gateway/hallcast" "${@:2}" ;;
  test) exec bash tools/run-tests ;;
  build) echo "setup: built in $BUILD" ;;
  *) echo "usage: tools/setup.sh run|build|test" >&2; exit 2 ;;
esac
