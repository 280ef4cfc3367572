#!/bin/sh
# apt-install.sh WHAT PACKAGE...: install Debian packages that WHAT needs, with apt, as
# root or through sudo (the ensure-*.sh scripts call it with what is missing).
set -e
what="$1"
shift
[ "$#" -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "$what need: $* — install them with: apt-get install $*" >&2
    exit 1
fi
echo "installing $* (Debian packages) ..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
