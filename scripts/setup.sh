#!/usr/bin/env bash
# Installs what pastewatch needs on a fresh Debian machine (idempotent): system packages for live capture
# (libpcap-dev), the test lab (tshark, tcpdump, dig, tcpreplay, iproute2, openssl, curl), then node modules.
# Run as root, or with sudo available. Set PASTEWATCH_SKIP_APT=1 to skip the system packages.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
if [ "${PASTEWATCH_SKIP_APT:-0}" != "1" ] && command -v apt-get >/dev/null 2>&1; then
  for p in libpcap-dev tshark tcpdump dnsutils tcpreplay iproute2 openssl curl; do
    have_pkg "$p" || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "setup: installing system packages: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # tshark asks whether non-root users may capture; answer it up front.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections || true
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "setup: pastewatch needs Node.js >= 20.6 (found $(node --version))" >&2
  exit 1
fi

# npm ci when the lock file matches; it builds the native pcap module (listed in allowScripts) and dist/.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing node modules"
  npm ci --no-audit --no-fund --loglevel=error
elif [ ! -f dist/src/cli.js ]; then
  npm run build --silent
fi
