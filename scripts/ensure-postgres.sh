#!/bin/sh
# Debian's PostgreSQL server binaries, for the hub's tests and benchmarks.
# Installs them with apt when missing (as root, or through sudo). The tests run
# their own throwaway cluster (showfloor.hub.devdb), never the system one.
set -e
for initdb in /usr/lib/postgresql/*/bin/initdb; do
    [ -x "$initdb" ] && exit 0
done
exec sh "$(dirname "$0")/apt-install.sh" "the hub tests" postgresql
