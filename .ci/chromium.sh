#!/usr/bin/env bash
# Install (from Debian's packages) a headless Chromium and CJK fonts for the
# dashboard's browser tests, then print the browser's path.  Playwright drives
# this browser (its own download of browsers is not used).
#
# Idempotent.  Runs as root.  On failure: a message on stderr, non-zero exit,
# and the browser tests skip, saying so.
set -euo pipefail

fail() { echo "chromium.sh: $*" >&2; exit 1; }

BROWSER=/usr/bin/chromium
if [ ! -x "$BROWSER" ] || ! fc-list :lang=zh 2>/dev/null | grep -q .; then
    [ "$(id -u)" = 0 ] || fail "must run as root to install chromium and fonts-noto-cjk"
    echo "chromium.sh: installing chromium and fonts-noto-cjk from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || fail "apt-get update failed"
    apt-get install -y -qq chromium fonts-noto-cjk >&2 || fail "apt-get install chromium fonts-noto-cjk failed"
fi
[ -x "$BROWSER" ] || fail "no browser at $BROWSER after install"
echo "$BROWSER"
