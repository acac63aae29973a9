#!/usr/bin/env bash
# Install the system packages CityWatch's tests and demo need, only when missing.
# Usage: scripts/ensure-system-deps.sh [mosquitto] [chromium] [opencv-doc] [cjk-font] [postgresql]
set -euo pipefail

need=()
for what in "$@"; do
  case "$what" in
    mosquitto) command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto) ;;
    chromium) [ -x /usr/bin/chromium ] || need+=(chromium) ;;
    # The real street clip (vtest.avi) the detector tests run on.
    opencv-doc) [ -f /usr/share/doc/opencv-doc/examples/data/vtest.avi ] || need+=(opencv-doc) ;;
    # A small Chinese font, so the browser tests and screenshots draw Chinese, not boxes.
    cjk-font) [ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei) ;;
    # The PostgreSQL server binaries (initdb, postgres): the tests start a private server of
    # their own; the Debian service is not started (policy-rc.d below).
    postgresql) command -v initdb >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null \
      || need+=(postgresql) ;;
    *) echo "ensure-system-deps: unknown dependency '$what'" >&2; exit 2 ;;
  esac
done
[ ${#need[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "ensure-system-deps: need root (or sudo) to install: ${need[*]}" >&2; exit 3
  fi
fi
echo "ensure-system-deps: installing ${need[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# --no-install-recommends keeps the browser install small; policy-rc.d stops the Debian
# mosquitto and postgresql services from being started (on 1883 and 5432) by the packages
# (our tests start their own).
if [ -d /usr/sbin ] && [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
