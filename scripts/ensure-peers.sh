#!/bin/sh
# The real peers the hall-hardware driver tests talk to: socat (a pseudo-terminal pair
# standing in for a serial board), liblo-tools (oscsend, oscdump) and mosquitto (an MQTT
# broker the tests start on a free port; the system service is not used).
# Installs them with apt when missing (as root, or through sudo).
set -e
need=""
command -v socat >/dev/null 2>&1 || need="$need socat"
{ command -v oscsend && command -v oscdump; } >/dev/null 2>&1 || need="$need liblo-tools"
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null 2>&1 || need="$need mosquitto"
exec sh "$(dirname "$0")/apt-install.sh" "the driver tests" $need
