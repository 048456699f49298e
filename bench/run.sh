#!/usr/bin/env bash
# End-to-end benchmark of POST /api/incidents.
#
# Starts a local Slack emulator, the ceiling (a plain forwarder, see
# bench/src/bin/forwarder.rs) and the real `versus` binary pointed at the
# emulator, then drives both with the closed-loop load generator at each
# concurrency and writes the figures to docs/BENCHMARKS.md, between the
# `<!-- e2e:start -->` and `<!-- e2e:end -->` markers (the rest of the file
# is left alone). Then the same two targets are driven by wrk, a standard
# load tool (bench/wrk.sh; installed from Debian's packages when missing),
# between the `<!-- wrk:start -->` and `<!-- wrk:end -->` markers.
#
# Environment knobs:
#   DURATION=10        measured seconds per run
#   WARMUP=2           warm-up seconds per run (not measured)
#   CONCURRENCY="1 16 64"
#   ROUNDS=3           ceiling/gateway pairs per concurrency; the table shows
#                      the pair with the median ratio, and lists them all
#   LOADGEN_THREADS=1  runtime threads of the load generator
#   SKIP_BUILD=1       use the binaries already in target/release
#   CALLS_PER_INSTANCE=1000
#                      the gateway's plugins.defaults.calls_per_instance
#                      (1: a fresh instance for every plugin call)
#   NO_DOCS=1          print the section instead of writing docs/BENCHMARKS.md
#   BENCH_DOC=path     write to another Markdown file
#   BENCH_LINES=path   also append `BENCH key value unit` lines (bench/suite.sh)
#   WRK_ONLY=1         measure with wrk only (see bench/wrk.sh for its knobs)
#   STORM_ONLY=1       run only the alert storm (bench/src/bin/storm.rs)
#   PAIR_WITH=path     compare this build's gateway with another versus
#                      binary, both running at once (bench/pair.sh); prints
#                      the ratio of CPU per alert, writes nothing
#   PAIR_EDIT=script   the same, against this build with its config edited
#                      by a sed script (bench/pair.sh has an example)
#   STORM_NOTIFICATIONS=500 STORM_SECONDS=10 STORM_CHANNELS=5
#                      the storm's size; it needs Redis on 127.0.0.1:6379
#   QUIET_LOAD=1.5 QUIET_WAIT=600
#                      before measuring, wait (up to QUIET_WAIT s, polling
#                      every 30 s) for the 1-minute load average to drop
#                      below QUIET_LOAD; off unless QUIET_LOAD is set
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
CONCURRENCY="${CONCURRENCY:-1 16 64}"
ROUNDS="${ROUNDS:-3}"
LOADGEN_THREADS="${LOADGEN_THREADS:-1}"
BODY="$ROOT/tests/fixtures/alertmanager/critical.json"
TEMPLATE="$ROOT/tests/fixtures/templates/slack_message.tmpl"
DOC="${BENCH_DOC:-$ROOT/docs/BENCHMARKS.md}"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"
COMMAND="bench/run.sh"

log() { printf '[bench] %s\n' "$*" >&2; }

# shellcheck source=bench/wrk.sh
source "$ROOT/bench/wrk.sh"
# shellcheck source=bench/pair.sh
source "$ROOT/bench/pair.sh"

if [[ -z "${SKIP_BUILD:-}" ]]; then
    log "building release binaries (cargo may wait for the shared target-dir lock)"
    cargo build --release -p versus -p versus-bench
fi
for b in versus slack-emulator forwarder loadgen storm; do
    [[ -x "$BIN/$b" ]] || { log "missing $BIN/$b (unset SKIP_BUILD)"; exit 1; }
done

TMP="$(mktemp -d "${TMPDIR:-/tmp}/versus-bench.XXXXXX")"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits for a process started with `--addr 127.0.0.1:0` to print its address;
# echoes the port.
wait_listening() {
    local out="$1" name="$2" i line
    for ((i = 0; i < 100; i++)); do
        line="$(grep -m1 '^listening on ' "$out" 2>/dev/null || true)"
        if [[ -n "$line" ]]; then
            echo "${line##*:}"
            return 0
        fi
        sleep 0.1
    done
    log "$name did not start:"
    cat "$out" >&2
    return 1
}

# A TCP port nobody listens on (nothing else is told about it in between
# but versus, which binds it a moment later).
free_port() {
    local p i
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# CPU time (user+system) of a process in milliseconds.
CLK_TCK="$(getconf CLK_TCK)"
cpu_ms() {
    local stat
    stat="$(cat "/proc/$1/stat")"
    stat="${stat##*) }" # drop "pid (comm) "
    # shellcheck disable=SC2086
    set -- $stat
    # fields 14 and 15 of stat are the 12th and 13th after the comm
    echo $(((${12} + ${13}) * 1000 / CLK_TCK))
}

# Extracts a numeric or string field from the loadgen's one-line JSON.
field() {
    sed -E "s/.*\"$2\":\"?([^,\"}]*)\"?.*/\1/" <<<"$1"
}

load1() { cut -d' ' -f1 /proc/loadavg; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

if [[ -n "${QUIET_LOAD:-}" ]]; then
    deadline=$((SECONDS + ${QUIET_WAIT:-600}))
    while awk -v l="$(load1)" -v q="$QUIET_LOAD" 'BEGIN { exit !(l >= q) }'; do
        if ((SECONDS >= deadline)); then
            log "load still $(load1) after ${QUIET_WAIT:-600}s; measuring anyway"
            break
        fi
        log "load average $(load1) >= $QUIET_LOAD; waiting 30 s"
        sleep 30
    done
fi

log "starting the Slack emulator"
"$BIN/slack-emulator" --addr 127.0.0.1:0 >"$TMP/emulator.out" 2>&1 &
EMU_PID=$!
PIDS+=("$EMU_PID")
EMU_PORT="$(wait_listening "$TMP/emulator.out" slack-emulator)"
SLACK_API="http://127.0.0.1:$EMU_PORT/api/"

log "starting the ceiling forwarder"
"$BIN/forwarder" --addr 127.0.0.1:0 --slack-api "$SLACK_API" \
    --channel C1 --token xoxb-bench >"$TMP/forwarder.out" 2>&1 &
FWD_PID=$!
PIDS+=("$FWD_PID")
FWD_PORT="$(wait_listening "$TMP/forwarder.out" forwarder)"

VERSUS_PORT="$(free_port)"
mkdir -p "$TMP/cache"
cat >"$TMP/config.yaml" <<EOF
name: versus-bench
host: 127.0.0.1
port: $VERSUS_PORT
public_host: http://127.0.0.1:$VERSUS_PORT
alert:
  debug_body: false
  slack:
    enable: true
    token: xoxb-bench
    channel_id: C1
    template_path: "$TEMPLATE"
    api_url: "$SLACK_API"
  console:
    enable: false
plugins:
  cache_dir: "$TMP/cache"
  defaults:
    calls_per_instance: ${CALLS_PER_INSTANCE:-1000}
EOF

log "starting versus on port $VERSUS_PORT"
# The environment overrides config keys (HOST, PORT, SLACK_*, ...): clear
# them so the temp config is what runs.
GATEWAY_ENV=(env -u HOST -u PORT -u PUBLIC_HOST -u DEBUG_BODY -u SLACK_ENABLE -u SLACK_TOKEN
    -u SLACK_CHANNEL_ID -u SLACK_API_URL -u ONCALL_ENABLE -u ONCALL_INITIALIZED_ONLY
    -u ONCALL_WAIT_MINUTES -u ONCALL_PROVIDER -u AWS_INCIDENT_MANAGER_RESPONSE_PLAN_ARN
    -u VERSUS_ACK_SECRET -u REDIS_HOST -u REDIS_PORT -u REDIS_PASSWORD -u REDIS_DB
    -u REDIS_INSECURE_SKIP_VERIFY -u REDIS_TLS -u REDIS_URL -u REDIS_KEY_PREFIX
    -u VERSUS_CONFIG -u VERSUS_LOG_FORMAT RUST_LOG=warn)
"${GATEWAY_ENV[@]}" "$BIN/versus" --config "$TMP/config.yaml" >"$TMP/versus.log" 2>&1 &
VERSUS_PID=$!
PIDS+=("$VERSUS_PID")
ready=""
for ((i = 0; i < 600; i++)); do
    if ! kill -0 "$VERSUS_PID" 2>/dev/null; then
        log "versus exited:"
        cat "$TMP/versus.log" >&2
        exit 1
    fi
    if curl -fsS "http://127.0.0.1:$VERSUS_PORT/readyz" >/dev/null 2>&1; then
        ready=1
        break
    fi
    sleep 0.1
done
[[ -n "$ready" ]] || { log "versus not ready after 60 s"; cat "$TMP/versus.log" >&2; exit 1; }

CEILING_URL="http://127.0.0.1:$FWD_PORT/api/incidents"
VERSUS_URL="http://127.0.0.1:$VERSUS_PORT/api/incidents"

# One request each, to fail early with a readable answer.
for url in "$CEILING_URL" "$VERSUS_URL"; do
    code="$(curl -sS -o "$TMP/smoke.out" -w '%{http_code}' -H 'content-type: application/json' \
        --data-binary "@$BODY" "$url")"
    if [[ "$code" != 201 ]]; then
        log "smoke request to $url answered $code:"
        cat "$TMP/smoke.out" >&2
        echo >&2
        cat "$TMP/versus.log" >&2
        exit 1
    fi
done

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
log "load average before measuring: $LOAD_BEFORE"

# write_section NAME TEXT: TEXT replaces what lies between the
# `<!-- NAME:start -->` and `<!-- NAME:end -->` lines of the document (or
# is appended), or is printed with NO_DOCS.
write_section() {
    local name="$1" text="$2"
    if [[ -n "${NO_DOCS:-}" ]]; then
        printf '%s\n' "$text"
        return 0
    fi
    mkdir -p "$(dirname "$DOC")"
    if [[ ! -f "$DOC" ]]; then
        printf '# Benchmarks\n\n%s\n' "$text" >"$DOC"
    elif grep -q "^<!-- $name:start -->\$" "$DOC" && grep -q "^<!-- $name:end -->\$" "$DOC"; then
        printf '%s\n' "$text" >"$TMP/section.md"
        awk -v sec="$TMP/section.md" -v start="<!-- $name:start -->" -v end="<!-- $name:end -->" '
            $0 == start { while ((getline line < sec) > 0) print line; skip = 1; next }
            $0 == end { skip = 0; next }
            !skip { print }
        ' "$DOC" >"$TMP/doc.md"
        cat "$TMP/doc.md" >"$DOC"
    else
        printf '\n%s\n' "$text" >>"$DOC"
    fi
    log "wrote the $name section of $DOC"
}

# storm_measure: an alert storm against a rate-limited Slack stand-in,
# through the real binary with its queues in Redis -> STORM_SECTION.
storm_measure() {
    local n="${STORM_NOTIFICATIONS:-500}" secs="${STORM_SECONDS:-10}" ch="${STORM_CHANNELS:-5}" table
    log "alert storm: $n notifications in $secs s over $ch channels"
    table="$("$BIN/storm" --versus "$BIN/versus" --notifications "$n" --seconds "$secs" --channels "$ch")"
    log "alert storm again, with alert.slack.storm_digest"
    table+=$'\n'"$("$BIN/storm" --versus "$BIN/versus" --notifications "$n" --seconds "$secs" --channels "$ch" --digest | tail -n 1)"
    STORM_SECTION="<!-- storm:start -->
## Alert storm

_Generated by \`bench/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC') (\`STORM_ONLY=1\` runs just this); rerun it to refresh this section._

\`bench/src/bin/storm.rs\` sends $n Alertmanager-style notifications evenly
over $secs s, round robin over $ch Slack channels, each from its own sender
that sends again on a 5xx or after 10 s without an answer (up to 3 times),
as Alertmanager does. Its Slack stand-in enforces Slack's limit per channel
and token: a burst of 3, then one message a second, 429 with
\`Retry-After\` beyond it. On-call is on with its state in the local
Redis, so the outbound queues are the shared, durable ones. It runs twice:
one message per notification, then with \`alert.slack.storm_digest\`.
\"delivered\" counts distinct alerts shown in Slack (a merged message shows
several); \"ideal\" is the time the limit alone imposes on one channel's
share at one message per notification (its notifications past the burst,
at one a second). Redis memory is the peak of \`used_memory\` over the
run, above its value before.

$table
<!-- storm:end -->"
}

if [[ -n "${PAIR_WITH:-}${PAIR_EDIT:-}" ]]; then
    pair_measure
    exit 0
fi
if [[ -n "${WRK_ONLY:-}" ]]; then
    wrk_measure
    write_section wrk "$WRK_SECTION"
    exit 0
fi
if [[ -n "${STORM_ONLY:-}" ]]; then
    storm_measure
    write_section storm "$STORM_SECTION"
    exit 0
fi

# run_one LABEL URL PID CONCURRENCY -> one JSON line with the CPU figures added
run_one() {
    local label="$1" url="$2" pid="$3" c="$4" t0 e0 t1 e1 out
    t0="$(cpu_ms "$pid")"
    e0="$(cpu_ms "$EMU_PID")"
    out="$("$BIN/loadgen" --url "$url" --body "$BODY" --concurrency "$c" \
        --duration "$DURATION" --warmup "$WARMUP" --threads "$LOADGEN_THREADS" --label "$label")"
    t1="$(cpu_ms "$pid")"
    e1="$(cpu_ms "$EMU_PID")"
    # CPU used by the target and the emulator over warm-up + measurement.
    echo "${out%\}},\"target_cpu_ms\":$((t1 - t0)),\"emulator_cpu_ms\":$((e1 - e0))}"
}

# Strategy: this machine's speed drifts from one minute to the next, so a
# single ceiling run followed by a single gateway run can compare a fast
# minute with a slow one. Each concurrency is measured in ROUNDS pairs,
# ceiling then gateway back to back, and the table shows the pair with the
# median ratio; every pair is listed below it and in the raw output.
RESULTS=()     # the median pair of each concurrency: ceiling, versus
ALL=()         # every run, in order
ROUND_LINES="" # per concurrency, every pair's ratio and gateway p99
for c in $CONCURRENCY; do
    pairs=()
    for ((r = 1; r <= ROUNDS; r++)); do
        log "concurrency $c, round $r/$ROUNDS: ceiling"
        f="$(run_one ceiling "$CEILING_URL" "$FWD_PID" "$c")"
        log "  $f"
        log "concurrency $c, round $r/$ROUNDS: versus"
        v="$(run_one versus "$VERSUS_URL" "$VERSUS_PID" "$c")"
        log "  $v"
        ALL+=("$f" "$v")
        pairs+=("$(ratio "$(field "$v" rps)" "$(field "$f" rps)") $f $v")
    done
    # Sort the pairs by ratio and take the middle one.
    median="$(printf '%s\n' "${pairs[@]}" | sort -n -k1,1 | sed -n "$(((ROUNDS + 1) / 2))p")"
    read -r _ f v <<<"$median"
    RESULTS+=("$f" "$v")
    ROUND_LINES+="
| $c | $(printf '%s\n' "${pairs[@]}" | awk '{ printf "%s%s", sep, $1; sep = ", " }') | $(printf '%s\n' "${pairs[@]}" | while read -r _ _ v; do field "$v" p99_ms; done | paste -sd, - | sed 's/,/, /g') |"
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

if grep -qiE 'error|panic' "$TMP/versus.log"; then
    log "versus logged errors:"
    grep -iE 'error|panic' "$TMP/versus.log" | head -20 >&2
fi

# ---- the Markdown section ---------------------------------------------------

# CPU microseconds per request: cpu_ms over (rps * (duration + warmup)), an
# estimate since the CPU window includes the warm-up.
cpu_per_req() {
    awk -v ms="$1" -v rps="$2" -v d="$DURATION" -v w="$WARMUP" \
        'BEGIN { n = rps * (d + w); if (n > 0) printf "%.0f", ms * 1000 / n; else print "n/a" }'
}

TABLE="| concurrency | ceiling alerts/s | ceiling p50 ms | ceiling p99 ms | versus alerts/s | versus p50 ms | versus p99 ms | ratio (versus / ceiling) | errors (ceiling / versus) |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
CPU_TABLE="| concurrency | ceiling CPU µs/alert | versus CPU µs/alert | emulator CPU µs/alert (ceiling run / versus run) |
|---:|---:|---:|---:|"
VERDICT=""
for ((i = 0; i < ${#RESULTS[@]}; i += 2)); do
    f="${RESULTS[i]}"
    v="${RESULTS[i + 1]}"
    c="$(field "$f" concurrency)"
    f_rps="$(field "$f" rps)"
    v_rps="$(field "$v" rps)"
    r="$(ratio "$v_rps" "$f_rps")"
    TABLE+="
| $c | $f_rps | $(field "$f" p50_ms) | $(field "$f" p99_ms) | $v_rps | $(field "$v" p50_ms) | $(field "$v" p99_ms) | $r | $(field "$f" errors) / $(field "$v" errors) |"
    CPU_TABLE+="
| $c | $(cpu_per_req "$(field "$f" target_cpu_ms)" "$f_rps") | $(cpu_per_req "$(field "$v" target_cpu_ms)" "$v_rps") | $(cpu_per_req "$(field "$f" emulator_cpu_ms)" "$f_rps") / $(cpu_per_req "$(field "$v" emulator_cpu_ms)" "$v_rps") |"
    if [[ -n "${BENCH_LINES:-}" ]]; then
        {
            echo "BENCH e2e_ceiling_rps_c$c $f_rps alerts/s"
            echo "BENCH e2e_versus_rps_c$c $v_rps alerts/s"
            echo "BENCH e2e_ratio_c$c $r x"
            echo "BENCH e2e_versus_p99_ms_c$c $(field "$v" p99_ms) ms"
            echo "BENCH e2e_versus_cpu_us_c$c $(cpu_per_req "$(field "$v" target_cpu_ms)" "$v_rps") us"
        } >>"$BENCH_LINES"
    fi
    if [[ "$c" == 64 ]]; then
        p99="$(field "$v" p99_ms)"
        ok_ratio="$(awk -v r="$r" 'BEGIN { print (r + 0 >= 0.5) ? "met" : "missed" }')"
        ok_p99="$(awk -v p="$p99" 'BEGIN { print (p + 0 <= 20) ? "met" : "missed" }')"
        VERDICT="Target at 64 concurrent senders: ratio ≥ 0.50 — **$ok_ratio** ($r); versus p99 ≤ 20 ms — **$ok_p99** ($p99 ms)."
    fi
done

BUSY=""
if awk -v l="${LOAD_BEFORE%% *}" -v n="$(nproc)" 'BEGIN { exit !(l >= n / 2) }'; then
    BUSY="
**The machine was busy while measuring** (1-minute load average ${LOAD_BEFORE%% *}
on $(nproc) CPUs before the first run, from other processes): absolute figures
are low and noisy; the ratio, measured in the same run, is the figure to compare."
fi

MODEL="$(lscpu 2>/dev/null | sed -nE 's/^Model name:[[:space:]]+//p' | head -1)"
MEM="$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
RAW="$(printf '%s\n' "${ALL[@]}")"

SECTION="<!-- e2e:start -->
## End-to-end POST /api/incidents

_Generated by \`$COMMAND\` on $(date -u '+%Y-%m-%d %H:%M UTC'); rerun it to refresh this section._

Closed-loop load (\`bench/src/bin/loadgen.rs\`, one keep-alive HTTP/1.1
connection per sender, the next request leaves when the previous answer is
read) posting \`tests/fixtures/alertmanager/critical.json\` (one alert,
with a distinct \`bench_seq\` member in each request) for
${DURATION} s after a ${WARMUP} s warm-up, at each concurrency against:

- **ceiling**: \`bench/src/bin/forwarder.rs\`, a plain axum/hyper handler that
  parses the JSON with serde_json and forwards one \`chat.postMessage\` per
  alert to the emulator over a shared pooled reqwest client, 201 on success;
- **versus**: \`target/release/versus\` (release build, \`RUST_LOG=warn\`),
  Slack channel on, pointed at the same emulator (\`alert.slack.api_url\`),
  template \`tests/fixtures/templates/slack_message.tmpl\`, default plugins
  (no transform, the \`gotemplate\` renderer, the \`slack\` channel).

Both deliver to the same \`bench/src/bin/slack-emulator\` (\`{\"ok\":true}\`
with no other work). alerts/s counts 201 answers only; latencies are
nearest-rank percentiles of every counted request. Everything — load
generator, target and emulator — shares the same machine. Each
concurrency is measured in $ROUNDS pairs (ceiling, then versus, back to
back); the table shows the pair with the median ratio.

$TABLE

$VERDICT

Every pair, in the order measured:

| concurrency | ratio of each pair | versus p99 ms of each pair |
|---:|---|---|$ROUND_LINES

CPU per alert (from \`/proc/<pid>/stat\` over warm-up + measurement):

$CPU_TABLE

Machine: $(nproc) CPUs ($MODEL), $MEM RAM, Linux $(uname -r).
Load average (1/5/15 min) before measuring: $LOAD_BEFORE; after: $LOAD_AFTER.
$BUSY

Command: \`$COMMAND\` (DURATION=$DURATION WARMUP=$WARMUP CONCURRENCY=\"$CONCURRENCY\" ROUNDS=$ROUNDS LOADGEN_THREADS=$LOADGEN_THREADS).

<details><summary>Raw load-generator output</summary>

\`\`\`json
$RAW
\`\`\`

</details>
<!-- e2e:end -->"

write_section e2e "$SECTION"
wrk_measure
write_section wrk "$WRK_SECTION"
storm_measure
write_section storm "$STORM_SECTION"
