#!/bin/sh
# Debian's PostgreSQL server binaries, for the hub's tests and benchmarks.
# Installs them with apt when missing (as root, or through sudo). The tests run
# their own throwaway cluster (showfloor.hub.devdb), never the system one.
set -e
for initdb in /usr/lib/postgresql/*/bin/initdb; do
    [ -x "$initdb" ] && exit 0
done
if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "the hub tests need PostgreSQL — install it with: apt-get install postgresql" >&2
    exit 1
fi
echo "installing postgresql (Debian packages) ..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
