#!/usr/bin/env bash
# Install Debian's headless-capable Chromium for the browser test of the HTML report
# (tests/test_report_browser.py), where it is missing and apt-get exists.  Idempotent: exits 0 at
# once when a chromium binary is on PATH.  Needs root, or sudo without a password.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "no chromium and no apt-get: install Chromium or Chrome, or set RMT_CHROMIUM" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "no chromium, and apt-get needs root: run  sudo apt-get install -y chromium" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
command -v chromium >/dev/null 2>&1
