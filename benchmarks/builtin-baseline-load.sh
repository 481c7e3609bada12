#!/usr/bin/env bash
# The first boot's built-in baseline: `flexwall baseline` loading the image's lib/builtin-baseline.nft, against the
# way before it (a JVM printing Main ruleset, piped into nft), alternating round by round in a network namespace of
# its own. Usage (root, after mvn install): benchmarks/builtin-baseline-load.sh [rounds]. Prints both medians in ms.
set -euo pipefail
cd "$(dirname "$0")/.."
image=appliance-image/target/flexwall
[ -x "$image/bin/flexwall" ] || { echo "build the image first: mvn -q install -DskipTests" >&2; exit 2; }
rounds="${1:-9}"
ns="fwbaseline-$$"; empty="$(mktemp -d)"
ip netns add "$ns"; trap 'ip netns del "$ns"; rm -rf "$empty"' EXIT
cp="$(ls "$image"/bundles/flexwall-hook-nftables-*.jar):$(ls "$image"/bundles/flexwall-api-*.jar)"
ms() { echo $(( ($2 - $1) / 1000000 )); }
jvm=(); file=()
for r in $(seq "$rounds"); do
  ip netns exec "$ns" nft flush ruleset
  t0=$(date +%s%N)
  rules="$(java -Xshare:auto -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$cp" org.flexwall.hook.nftables.Main ruleset)"
  ip netns exec "$ns" nft -f - <<<"$rules"
  t1=$(date +%s%N)
  ip netns exec "$ns" nft flush ruleset
  t2=$(date +%s%N)
  ip netns exec "$ns" "$image/bin/flexwall" baseline --data "$empty" >/dev/null
  t3=$(date +%s%N)
  jvm+=("$(ms "$t0" "$t1")"); file+=("$(ms "$t2" "$t3")")
  echo "round $r: JVM ${jvm[-1]} ms, file ${file[-1]} ms"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "medians of $rounds rounds: JVM $(median "${jvm[@]}") ms, flexwall baseline with the file $(median "${file[@]}") ms"
