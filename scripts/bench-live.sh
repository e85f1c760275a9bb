#!/usr/bin/env bash
# Live-capture benchmark (npm run bench:live): replays the generated capture onto a veth pair at rising
# packet rates while `pastewatch run` captures on the far end with the pcap receiver (pcap ->
# dns_correlation -> paste_classifier -> dedup -> jsonl), and reports for each rate the packets libpcap
# delivered, the kernel's drop counters (read from pastewatch's own Prometheus metrics), the CPU pastewatch
# used and its peak RSS; then the highest rate with zero drops. Needs root (network namespace, veth,
# tcpreplay) and tcpreplay (apt-get install tcpreplay).
#
#   scripts/bench-live.sh [--capture FILE] [--rates "50000 100000 ..."] [--seconds N] [--topspeed]
#
# The capture defaults to bench-out/mixed.pcap (made by scripts/gen-capture.ts when missing); with
# --seconds N each step replays at most RATE*N packets of it (default 4 s per step). Results are printed
# as a table and written to bench-out/live-results.md. Everything it creates (namespace, veth, temp dir,
# processes) is removed on exit.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
CAPTURE=bench-out/mixed.pcap
RATES="50000 100000 200000 300000 400000 500000 700000 1000000"
SECONDS_PER_STEP=4
TOPSPEED=0
while [ $# -gt 0 ]; do
  case "$1" in
    --capture) CAPTURE=$2; shift 2 ;;
    --rates) RATES=$2; shift 2 ;;
    --seconds) SECONDS_PER_STEP=$2; shift 2 ;;
    --topspeed) TOPSPEED=1; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "bench-live: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

die() { echo "bench-live: $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "needs root (it creates a network namespace and a veth pair and captures on it)"
command -v tcpreplay >/dev/null || die "tcpreplay is missing: apt-get install tcpreplay"
command -v ip >/dev/null || die "ip (iproute2) is missing"
command -v curl >/dev/null || die "curl is missing (it reads pastewatch's /metrics)"

if [ ! -s "$CAPTURE" ]; then
  [ "$CAPTURE" = bench-out/mixed.pcap ] || die "capture $CAPTURE not found"
  echo "bench-live: generating bench-out/mixed.pcap (scripts/gen-capture.ts)" >&2
  node --import tsx scripts/gen-capture.ts --out bench-out --only mixed >&2
fi
if [ "${PW_BENCH_NO_BUILD:-}" != 1 ]; then
  # The benchmark runs the built CLI, as users do; a type error elsewhere must not stop it (tsc still emits).
  npx tsc -p tsconfig.build.json >/dev/null 2>&1 || echo "bench-live: tsc reported errors; running what it emitted" >&2
fi
[ -f dist/src/cli.js ] || die "dist/src/cli.js is missing: npm run build"

ID=$$
NS="pwbench$ID"
HOST_IF="pwbh$ID"
NS_IF="pwbn$ID"
TMP=$(mktemp -d /tmp/pw-bench-live.XXXXXX)
PW_PID=""
cleanup() {
  if [ -n "$PW_PID" ] && kill -0 "$PW_PID" 2>/dev/null; then
    kill -TERM "$PW_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$PW_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PW_PID" 2>/dev/null || true
  fi
  ip link del "$HOST_IF" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS"
ip link add "$HOST_IF" type veth peer name "$NS_IF"
ip link set "$NS_IF" netns "$NS"
ip link set "$HOST_IF" up
ip -n "$NS" link set "$NS_IF" up
ip -n "$NS" link set lo up
# No addresses: the replayed frames are somebody else's traffic, seen by the capture and then dropped.

PORT=9464
cat > "$TMP/config.yaml" <<EOF
receivers:
  pcap:
    interface: $NS_IF
    promiscuous: true
    stats_interval_ms: 200
processors:
  dns_correlation:
  paste_classifier:
  dedup:
exporters:
  jsonl:
    path: $TMP/detections.jsonl
service:
  telemetry:
    logs: { level: info }
    metrics: { address: "127.0.0.1:$PORT" }
  pipelines:
    logs:
      receivers: [pcap]
      processors: [dns_correlation, paste_classifier, dedup]
      exporters: [jsonl]
EOF

ip netns exec "$NS" node bin/pastewatch.js run --config "$TMP/config.yaml" 2> "$TMP/pastewatch.log" &
PW_PID=$!
for _ in $(seq 200); do grep -q 'pipelines running' "$TMP/pastewatch.log" 2>/dev/null && break; kill -0 "$PW_PID" 2>/dev/null || break; sleep 0.1; done
grep -q 'pipelines running' "$TMP/pastewatch.log" || { cat "$TMP/pastewatch.log" >&2; die "pastewatch did not start"; }

# One metric's value (summed over its label sets) from pastewatch's /metrics.
metric() {
  ip netns exec "$NS" curl -sf "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $NF } END { printf "%d\n", s }'
}
# CPU time (user + system, clock ticks) and peak / current RSS (KiB) of pastewatch.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PW_PID/stat"; }
peak_rss_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$PW_PID/status"; }
HZ=$(getconf CLK_TCK)
CAP_PACKETS=$(tcpdump -r "$CAPTURE" -nn -q 2>/dev/null | wc -l || true)

declare -a ROWS
BEST=0
BEST_ROW=""
step() {
  local label=$1; shift
  local recv0 drop0 ifdrop0 cpu0 t0 recv1 drop1 ifdrop1 cpu1 t1 out sent wall cpu_pct drops
  recv0=$(metric pastewatch_pcap_ps_recv); drop0=$(metric pastewatch_pcap_ps_drop); ifdrop0=$(metric pastewatch_pcap_ps_ifdrop)
  cpu0=$(cpu_ticks); t0=$(date +%s.%N)
  out=$(tcpreplay --intf1="$HOST_IF" "$@" "$CAPTURE" 2>&1) || { echo "$out" >&2; die "tcpreplay failed"; }
  # Let pastewatch drain its ring and read the counters again (stats every 200 ms).
  sleep 1.5
  t1=$(date +%s.%N); cpu1=$(cpu_ticks)
  recv1=$(metric pastewatch_pcap_ps_recv); drop1=$(metric pastewatch_pcap_ps_drop); ifdrop1=$(metric pastewatch_pcap_ps_ifdrop)
  sent=$(echo "$out" | awk '/Actual:/ { print $2; exit }')
  local rate
  rate=$(echo "$out" | awk '/Rated:/ { for (i = 1; i <= NF; i++) if ($i ~ /pps/) { print $(i-1); exit } }')
  wall=$(echo "$out" | awk '/Actual:/ { for (i = 1; i <= NF; i++) if ($i == "seconds") { print $(i-1); exit } }')
  drops=$(( (drop1 - drop0) + (ifdrop1 - ifdrop0) ))
  # CPU over the replay plus the drain pause, as a share of one core during the replay itself.
  cpu_pct=$(awk -v c="$((cpu1 - cpu0))" -v hz="$HZ" -v w="$wall" 'BEGIN { if (w > 0) printf "%.0f", 100 * c / hz / w; else print "?" }')
  local row
  row=$(printf '| %s | %s | %s | %s | %s | %s | %s MiB |' "$label" "${rate:-?}" "${sent:-?}" "$((recv1 - recv0))" "$drops" "$cpu_pct%" "$(( $(peak_rss_kb) / 1024 ))")
  ROWS+=("$row")
  echo "$row" >&2
  if [ "$drops" -eq 0 ] && [ -n "$rate" ]; then
    local r=${rate%.*}
    if [ "$r" -gt "$BEST" ]; then BEST=$r; BEST_ROW=$row; fi
  fi
  [ "$drops" -eq 0 ]
}

echo "bench-live: capture $CAPTURE ($CAP_PACKETS packets), veth $HOST_IF -> $NS_IF, pastewatch pid $PW_PID" >&2
echo "| target | achieved pkt/s | packets sent | delivered by libpcap | drops (kernel + interface) | pastewatch CPU (one core = 100%) | peak RSS |" >&2
echo "|---|---|---|---|---|---|---|" >&2
FAILS=0
for r in $RATES; do
  limit=$(( r * SECONDS_PER_STEP ))
  if [ -n "$CAP_PACKETS" ] && [ "$CAP_PACKETS" -gt 0 ] && [ "$limit" -gt "$CAP_PACKETS" ]; then limit=$CAP_PACKETS; fi
  if step "$r pkt/s" --pps="$r" --limit="$limit"; then FAILS=0; else FAILS=$((FAILS + 1)); fi
  # Two rates in a row with drops: higher ones will drop too.
  [ "$FAILS" -ge 2 ] && break
done
if [ "$TOPSPEED" = 1 ]; then step "topspeed" --topspeed --limit="$(( CAP_PACKETS > 0 ? CAP_PACKETS : 1000000 ))" || true; fi

kill -TERM "$PW_PID"
wait "$PW_PID" 2>/dev/null || true
PW_PID=""
DETECTIONS=$(wc -l < "$TMP/detections.jsonl" 2>/dev/null || echo 0)

{
  echo "Live capture benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, Node $(node --version), $(tcpreplay --version 2>&1 | head -1)"
  echo "capture: $CAPTURE ($CAP_PACKETS packets), default bpf_filter, buffer_size_mb 32; detections written: $DETECTIONS"
  echo
  echo "| target | achieved pkt/s | packets sent | delivered by libpcap | drops (kernel + interface) | pastewatch CPU (one core = 100%) | peak RSS |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  if [ "$BEST" -gt 0 ]; then echo "Highest rate with zero drops: $BEST pkt/s ($BEST_ROW)"; else echo "No rate ran without drops."; fi
} > "$TMP/results.md"
mkdir -p bench-out
cp "$TMP/results.md" bench-out/live-results.md
cat "$TMP/results.md"
