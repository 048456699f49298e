#!/usr/bin/env bash
# Soak test of POST /api/incidents: the real `versus` binary (release) with
# Slack pointed at the bench's local emulator, driven by the bench's
# closed-loop load generator for SOAK_SECONDS. RSS and open file
# descriptors of the gateway are read from /proc after a warm-up and at
# the end; the run fails if they grew past the bound:
#
#   RSS:  end <= start * 1.25 + 32 MiB     (allocator caches settle early)
#   fds:  end <= start + 32                (pooled connections come and go)
#
# Environment knobs:
#   SOAK_SECONDS=600   measured seconds (10 minutes)
#   WARMUP=30          seconds of load before the first sample
#   CONCURRENCY=2      senders (one keep-alive connection each)
#   PROFILE=release    cargo profile of the binaries (`debug` reuses a test build)
#   SKIP_BUILD=1       use the binaries already built
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SOAK_SECONDS="${SOAK_SECONDS:-600}"
WARMUP="${WARMUP:-30}"
CONCURRENCY="${CONCURRENCY:-2}"
BODY="$ROOT/tests/fixtures/alertmanager/critical.json"
TEMPLATE="$ROOT/tests/fixtures/templates/slack_message.tmpl"
PROFILE="${PROFILE:-release}"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/$PROFILE"

log() { printf '[soak] %s\n' "$*" >&2; }

if [[ -z "${SKIP_BUILD:-}" ]]; then
    log "building $PROFILE binaries"
    if [[ "$PROFILE" == debug ]]; then
        cargo build -p versus -p versus-bench
    else
        cargo build --profile "$PROFILE" -p versus -p versus-bench
    fi
fi
for b in versus slack-emulator loadgen; do
    [[ -x "$BIN/$b" ]] || { log "missing $BIN/$b (unset SKIP_BUILD)"; exit 1; }
done

TMP="$(mktemp -d "${TMPDIR:-/tmp}/versus-soak.XXXXXX")"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$BIN/slack-emulator" --addr 127.0.0.1:0 >"$TMP/emulator.out" 2>&1 &
PIDS+=("$!")
for _ in $(seq 100); do
    line="$(grep -m1 '^listening on ' "$TMP/emulator.out" 2>/dev/null || true)"
    [[ -n "$line" ]] && break
    sleep 0.1
done
[[ -n "$line" ]] || { log "slack-emulator did not start"; exit 1; }
SLACK_API="http://127.0.0.1:${line##*:}/api/"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$TMP/cache"
cat >"$TMP/config.yaml" <<YAML
host: 127.0.0.1
port: $PORT
alert:
  slack:
    enable: true
    token: xoxb-soak
    channel_id: C1
    template_path: "$TEMPLATE"
    api_url: "$SLACK_API"
plugins:
  cache_dir: "$TMP/cache"
  watch: false
YAML
env -i PATH="$PATH" HOME="$HOME" RUST_LOG=warn "$BIN/versus" --config "$TMP/config.yaml" \
    >"$TMP/versus.log" 2>&1 &
VERSUS_PID=$!
PIDS+=("$VERSUS_PID")
for _ in $(seq 600); do
    curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    kill -0 "$VERSUS_PID" 2>/dev/null || { cat "$TMP/versus.log" >&2; exit 1; }
    sleep 0.1
done

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$VERSUS_PID/status"; }
fds() { find "/proc/$VERSUS_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
load() {
    "$BIN/loadgen" --url "http://127.0.0.1:$PORT/api/incidents" --body "$BODY" \
        --concurrency "$CONCURRENCY" --warmup 0 --duration "$1" --label soak
}

log "warm-up: ${WARMUP}s at concurrency $CONCURRENCY"
load "$WARMUP" >/dev/null
rss0=$(rss_kib) fd0=$(fds)
log "start: rss ${rss0} KiB, ${fd0} fds; soaking ${SOAK_SECONDS}s"
result="$(load "$SOAK_SECONDS")"
sleep 2
rss1=$(rss_kib) fd1=$(fds)
log "end:   rss ${rss1} KiB, ${fd1} fds"
rss_bound=$((rss0 * 125 / 100 + 32 * 1024))
fd_bound=$((fd0 + 32))
printf '{"seconds":%s,"concurrency":%s,"rss_start_kib":%s,"rss_end_kib":%s,"rss_bound_kib":%s,"fds_start":%s,"fds_end":%s,"fds_bound":%s,"load":%s}\n' \
    "$SOAK_SECONDS" "$CONCURRENCY" "$rss0" "$rss1" "$rss_bound" "$fd0" "$fd1" "$fd_bound" "$result"
status=0
((rss1 <= rss_bound)) || { log "RSS grew past the bound"; status=1; }
((fd1 <= fd_bound)) || { log "open fds grew past the bound"; status=1; }
grep -qiE 'panic|overflow' "$TMP/versus.log" && { log "the gateway log shows a panic"; status=1; }
exit "$status"
