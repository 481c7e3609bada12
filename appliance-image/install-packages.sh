#!/usr/bin/env bash
# install-packages.sh CALLER PACKAGE...: installs from apt the Debian packages of the list that are missing (root only).
# Used by run.sh (what the build and the appliance need) and test.sh (that, and what the tests drive).
set -euo pipefail
caller=$1
shift
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]})) || exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "$caller: missing packages ${missing[*]}; run as root (sudo ./$caller) so they can be installed" >&2
  exit 2
fi
echo "$caller: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
