#!/bin/sh
# Debian's Chromium and the CJK fonts the renderer uses, for the browser tests, and
# Xvfb, xdotool and openbox for the kiosk escape battery (tests/e2e/test_escape.py:
# a headed Chromium on a virtual screen, keys and clicks through X).
# Installs them with apt when missing (as root, or through sudo).
set -e
need=""
[ -x /usr/bin/chromium ] || need="$need chromium"
fc-list 2>/dev/null | grep -q "Noto Sans CJK" || need="$need fonts-noto-cjk"
command -v Xvfb >/dev/null 2>&1 || need="$need xvfb"
command -v xdotool >/dev/null 2>&1 || need="$need xdotool"
command -v xwininfo >/dev/null 2>&1 || need="$need x11-utils"
command -v openbox >/dev/null 2>&1 || need="$need openbox"
exec sh "$(dirname "$0")/apt-install.sh" "the browser tests" $need
