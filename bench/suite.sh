#!/usr/bin/env bash
# The whole benchmark suite on this machine, in one command:
#
#   bench/suite.sh
#
# Runs, in order (each bench prints `BENCH key value unit` lines, collected
# here):
#   1. cargo bench --bench render      renderer wasm vs native, compile, cache, in-process reload
#   2. cargo bench --bench plugins     transform and Slack channel: wasm vs native per call
#   3. cargo bench --bench escalation  lateness with 10,000 incidents in the due-set
#                                      (1,000 due over 10 s among 9,000 pending), ACK, idle CPU
#   4. bench/run.sh                    end to end vs the forwarding ceiling at 1/16/64 senders
#                                      (it refreshes its own e2e section too)
#   5. procstats (bench/src/bin)       real binary: warm/cold start-up, reload, idle CPU, RSS
# and writes a table of every figure against its target, with the machine,
# the date and the load it ran under, to docs/BENCHMARKS.md between the
# `<!-- suite:start -->` and `<!-- suite:end -->` markers. The rest of the
# file is left alone.
#
# Environment knobs:
#   SKIP_BUILD=1   use the binaries already built (release + bench profile)
#   NO_DOCS=1      print the section instead of writing the file
#   BENCH_DOC=path write to another Markdown file
#   E2E_DURATION=10 per-run seconds of bench/run.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DOC="${BENCH_DOC:-$ROOT/docs/BENCHMARKS.md}"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/versus-suite.XXXXXX")"
LINES="$TMP/lines.txt"
: >"$LINES"
EMU_PID=""
cleanup() {
    if [[ -n "$EMU_PID" ]]; then kill "$EMU_PID" 2>/dev/null || true; wait "$EMU_PID" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '[suite] %s\n' "$*" >&2; }

if [[ -z "${SKIP_BUILD:-}" ]]; then
    log "building release binaries and benches"
    cargo build --release -p versus -p versus-bench
    cargo bench -p versus --no-run
fi

# Other compilers or test runs on the machine skew every figure: note them.
others() {
    local n
    n="$(pgrep -x rustc 2>/dev/null | wc -l)"
    echo "$n"
}

CONDITIONS=()
# step NAME COMMAND...: runs it, keeps its output and BENCH lines, notes
# when it ran and under what load.
step() {
    local name="$1"
    shift
    local load others_before
    load="$(cut -d' ' -f1 /proc/loadavg)"
    others_before="$(others)"
    log "$name (load $load, $others_before other rustc processes)"
    "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" || {
        log "$name failed:"
        tail -30 "$TMP/$name.err" >&2
        tail -30 "$TMP/$name.out" >&2
        exit 1
    }
    grep '^BENCH ' "$TMP/$name.out" >>"$LINES" || true
    CONDITIONS+=("| $name | $(date -u '+%Y-%m-%d %H:%M') UTC | $load → $(cut -d' ' -f1 /proc/loadavg) | $others_before |")
}

step render cargo bench -p versus --bench render
step plugins cargo bench -p versus --bench plugins
step escalation env VERSUS_BENCH_PENDING=1000 VERSUS_BENCH_SPREAD_MS=10000 \
    VERSUS_BENCH_BACKGROUND=9000 cargo bench -p versus --bench escalation
step e2e env BENCH_LINES="$LINES" SKIP_BUILD=1 DURATION="${E2E_DURATION:-10}" \
    ${NO_DOCS:+NO_DOCS=1} ${BENCH_DOC:+BENCH_DOC="$BENCH_DOC"} bench/run.sh

"$BIN/slack-emulator" --addr 127.0.0.1:0 >"$TMP/emulator.out" 2>&1 &
EMU_PID=$!
for _ in $(seq 100); do
    grep -q '^listening on ' "$TMP/emulator.out" 2>/dev/null && break
    sleep 0.1
done
EMU_PORT="$(sed -n 's/^listening on .*://p' "$TMP/emulator.out")"
step procstats "$BIN/procstats" --versus "$BIN/versus" \
    --slack-api "http://127.0.0.1:$EMU_PORT/api/" \
    --template tests/fixtures/templates/slack_message.tmpl \
    --body tests/fixtures/alertmanager/critical.json

# ---- the table ---------------------------------------------------------------

# v KEY: the collected value of KEY ("n/a" if a bench did not print it).
v() { awk -v k="$1" '$1 == "BENCH" && $2 == k { x = $3 } END { print (x == "" ? "n/a" : x) }' "$LINES"; }
# verdict VALUE OP LIMIT: met / missed.
verdict() {
    awk -v x="$1" -v op="$2" -v l="$3" 'BEGIN {
        if (x == "n/a") { print "not measured"; exit }
        ok = (op == "<=") ? (x + 0 <= l + 0) : (x + 0 >= l + 0)
        print ok ? "**met**" : "**missed**"
    }'
}
MB_IDLE="$(awk -v m="$(v rss_idle_mib)" 'BEGIN { if (m == "n/a") print m; else printf "%.1f", m * 1.048576 }')"
MB_LOADED="$(awk -v m="$(v rss_loaded_mib)" 'BEGIN { if (m == "n/a") print m; else printf "%.1f", m * 1.048576 }')"

row() { echo "| $1 | $2 | $3 | $4 |"; }
TARGETS="| target | measured | result | from |
|---|---:|---|---|
$(row "renderer (wasm, fresh instance per call) ≤ 2× native parse + render, median" "$(v render_ratio)×" "$(verdict "$(v render_ratio)" "<=" 2)" "render: $(v render_wasm_median_us) µs vs $(v render_native_median_us) µs")
$(row "gateway CPU per alert ≤ 300 µs (64 senders)" "$(v e2e_versus_cpu_us_c64) µs" "$(verdict "$(v e2e_versus_cpu_us_c64)" "<=" 300)" "e2e: whole process CPU / alerts")
$(row "end to end ≥ 50% of the ceiling at 64 senders" "$(v e2e_ratio_c64)×" "$(verdict "$(v e2e_ratio_c64)" ">=" 0.5)" "e2e: $(v e2e_versus_rps_c64) vs $(v e2e_ceiling_rps_c64) alerts/s")
$(row "end to end p99 ≤ 20 ms at 64 senders" "$(v e2e_versus_p99_ms_c64) ms" "$(verdict "$(v e2e_versus_p99_ms_c64)" "<=" 20)" "e2e")
$(row "escalation lateness p99 ≤ 1 s, 10,000 in the due-set" "$(v escalation_lateness_p99_ms) ms" "$(verdict "$(v escalation_lateness_p99_ms)" "<=" 1000)" "escalation: $(v escalation_escalated) escalated, due-set $(v escalation_due_set), max $(v escalation_lateness_max_ms) ms")
$(row "idle CPU ≈ 0 (< 1% of one core), real binary" "$(v idle_cpu_pct) %" "$(verdict "$(v idle_cpu_pct)" "<=" 1)" "procstats; scheduler alone with 10,000 pending: $(v scheduler_idle_cpu_pct) %")
$(row "reload ≤ 500 ms (template write → new version serving)" "$(v reload_median_ms) ms" "$(verdict "$(v reload_median_ms)" "<=" 500)" "procstats, real binary, max $(v reload_max_ms) ms; in process: $(v reload_in_process_ms) ms")
$(row "warm start ≤ 300 ms (spawn → /healthz answers)" "$(v startup_warm_ms) ms" "$(verdict "$(v startup_warm_ms)" "<=" 300)" "procstats; cold cache: $(v startup_cold_ms) ms")
$(row "idle RSS ≤ 60 MB" "$MB_IDLE MB" "$(verdict "$MB_IDLE" "<=" 60)" "procstats, VmRSS")"

OTHER="| measure | value |
|---|---:|
| transform (alertmanager) per call: wasm / native median | $(v transform_wasm_median_us) µs / $(v transform_native_median_us) µs ($(v transform_ratio)×) |
| Slack deliver per call (local chat.postMessage): wasm / native median | $(v slack_deliver_wasm_median_us) µs / $(v slack_deliver_native_median_us) µs ($(v slack_deliver_ratio)×) |
| renderer, reused instance (template kept parsed): wasm / native render of a parsed template, median | $(v render_wasm_reused_median_us) µs / $(v render_native_exec_median_us) µs ($(v render_reused_ratio)×) |
| wasm renders/s, reused instances (2 tasks) | $(v renders_per_s) |
| escalation lateness p50 / max | $(v escalation_lateness_p50_ms) ms / $(v escalation_lateness_max_ms) ms |
| ACK over HTTP p99 | $(v ack_http_p99_us) µs |
| end to end at 1 / 16 / 64 senders: ratio to the ceiling | $(v e2e_ratio_c1) / $(v e2e_ratio_c16) / $(v e2e_ratio_c64) |
| RSS under load (64 senders, 10 s, peak) | $MB_LOADED MB |"

MODEL="$(lscpu 2>/dev/null | sed -nE 's/^Model name:[[:space:]]+//p' | head -1)"
MEM="$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
COND_TABLE="| step | started | 1-min load (before → after) | other rustc processes at start |
|---|---|---|---:|
$(printf '%s\n' "${CONDITIONS[@]}")"
BUSY=""
if grep -qE '\| [1-9][0-9]* \|$' <<<"$COND_TABLE"; then
    BUSY="
**Other builds were running on the machine during some steps** (see the
last column): those figures are pessimistic."
fi

SECTION="<!-- suite:start -->
## Summary: every target (\`bench/suite.sh\`)

_Generated by \`bench/suite.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'); rerun it to refresh this section._

Machine: $MODEL, $(nproc) cores, $MEM RAM, Linux $(uname -r). Every
figure below comes from this machine and this run; load generator,
emulators, Redis and the gateway share it.

$TARGETS

$OTHER

Conditions of each step:

$COND_TABLE
$BUSY

<details><summary>Collected BENCH lines</summary>

\`\`\`
$(cat "$LINES")
\`\`\`

</details>
<!-- suite:end -->"

if [[ -n "${NO_DOCS:-}" ]]; then
    printf '%s\n' "$SECTION"
    exit 0
fi
printf '%s\n' "$SECTION" >"$TMP/section.md"
if grep -q '^<!-- suite:start -->$' "$DOC" && grep -q '^<!-- suite:end -->$' "$DOC"; then
    awk -v sec="$TMP/section.md" '
        /^<!-- suite:start -->$/ { while ((getline line < sec) > 0) print line; skip = 1; next }
        /^<!-- suite:end -->$/ { skip = 0; next }
        !skip { print }
    ' "$DOC" >"$TMP/doc.md"
else
    # First run: the summary goes right under the title.
    awk -v sec="$TMP/section.md" '
        NR == 1 { print; print ""; while ((getline line < sec) > 0) print line; next }
        { print }
    ' "$DOC" >"$TMP/doc.md"
fi
cat "$TMP/doc.md" >"$DOC"
log "wrote $DOC"
