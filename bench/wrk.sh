# The wrk part of bench/run.sh (sourced by it, not run alone): the same
# ceiling and gateway, driven by a standard load tool, so that the ratio does
# not depend on our own load generator.
#
# Uses from run.sh: BIN TMP BODY CEILING_URL VERSUS_URL FWD_PID VERSUS_PID
# EMU_PID, and the helpers log, cpu_ms, field, ratio.
#
# Knobs:
#   WRK_THREADS=2 WRK_CONNECTIONS=64 WRK_DURATION=8 WRK_WARMUP=2 WRK_ROUNDS=3

WRK_THREADS="${WRK_THREADS:-2}"
WRK_CONNECTIONS="${WRK_CONNECTIONS:-64}"
WRK_DURATION="${WRK_DURATION:-8}"
WRK_WARMUP="${WRK_WARMUP:-2}"
WRK_ROUNDS="${WRK_ROUNDS:-3}"

# wrk itself, from Debian's packages when missing.
ensure_wrk() {
    command -v wrk >/dev/null 2>&1 && return 0
    if [[ "$(id -u)" -ne 0 ]]; then
        log "missing wrk: install it with: sudo apt-get install wrk"
        exit 1
    fi
    log "installing wrk"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null
}

# The request, and one JSON line at the end: requests, non-2xx answers,
# socket errors, the achieved rate and latency percentiles. Each request is
# a distinct notification (a `bench_seq` member is added): the same body
# twice while the first is still in flight is a sender's retry to the
# gateway (see `alert.dedup_window`), which a real sender's distinct alerts
# are not.
write_wrk_script() {
    cat >"$TMP/post.lua" <<'LUA'
local f = assert(io.open(os.getenv("WRK_BODY"), "rb"))
local template = f:read("*a"):gsub("^%s*{", "", 1)
f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local sent = 0
function request()
  sent = sent + 1
  return wrk.format(nil, nil, nil, '{"bench_seq":"' .. tid .. "-" .. sent .. '",' .. template)
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  local ok = summary.requests - summary.errors.status
  io.write(string.format(
    '{"requests":%d,"ok":%d,"non2xx":%d,"errors":%d,"rps":%.0f,"p50_ms":%.2f,"p99_ms":%.2f,"max_ms":%.2f}\n',
    summary.requests, ok, summary.errors.status, errors,
    ok / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
LUA
}

# wrk_one LABEL URL PID -> one JSON line, with the CPU the target and the
# emulator used during the measured run.
wrk_one() {
    local label="$1" url="$2" pid="$3" t0 e0 t1 e1 out
    WRK_BODY="$BODY" wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${WRK_WARMUP}s" \
        -s "$TMP/post.lua" "$url" >/dev/null
    t0="$(cpu_ms "$pid")"
    e0="$(cpu_ms "$EMU_PID")"
    out="$(WRK_BODY="$BODY" wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${WRK_DURATION}s" \
        -s "$TMP/post.lua" "$url" | grep '^{' | tail -1)"
    t1="$(cpu_ms "$pid")"
    e1="$(cpu_ms "$EMU_PID")"
    echo "${out%\}},\"label\":\"$label\",\"target_cpu_ms\":$((t1 - t0)),\"emulator_cpu_ms\":$((e1 - e0))}"
}

# CPU microseconds per answered request over the measured run.
wrk_cpu_per_req() {
    awk -v ms="$1" -v ok="$2" 'BEGIN { if (ok > 0) printf "%.0f", ms * 1000 / ok; else print "n/a" }'
}

# The middle one of its numeric arguments (the lower middle of an even count).
median() {
    printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"
}

# Measures WRK_ROUNDS pairs (ceiling, then versus) and sets WRK_SECTION.
wrk_measure() {
    ensure_wrk
    write_wrk_script
    local r f v rows="" ratios=() cpu_ratios=() p99s=()
    for ((r = 1; r <= WRK_ROUNDS; r++)); do
        log "wrk round $r/$WRK_ROUNDS: ceiling"
        f="$(wrk_one ceiling "$CEILING_URL" "$FWD_PID")"
        log "  $f"
        log "wrk round $r/$WRK_ROUNDS: versus"
        v="$(wrk_one versus "$VERSUS_URL" "$VERSUS_PID")"
        log "  $v"
        local f_cpu v_cpu rr cr
        f_cpu="$(wrk_cpu_per_req "$(field "$f" target_cpu_ms)" "$(field "$f" ok)")"
        v_cpu="$(wrk_cpu_per_req "$(field "$v" target_cpu_ms)" "$(field "$v" ok)")"
        rr="$(ratio "$(field "$v" rps)" "$(field "$f" rps)")"
        cr="$(ratio "$v_cpu" "$f_cpu")"
        ratios+=("$rr")
        cpu_ratios+=("$cr")
        p99s+=("$(field "$v" p99_ms)")
        rows+="
| $r | $(field "$f" rps) | $(field "$f" p99_ms) | $f_cpu | $(field "$v" rps) | $(field "$v" p50_ms) | $(field "$v" p99_ms) | $v_cpu | **$rr** | $cr | $(field "$f" non2xx)+$(field "$f" errors) / $(field "$v" non2xx)+$(field "$v" errors) |"
        WRK_RAW+="$f
$v
"
        if [[ -n "${BENCH_LINES:-}" ]]; then
            {
                echo "BENCH wrk_ratio_r$r $rr x"
                echo "BENCH wrk_versus_p99_ms_r$r $(field "$v" p99_ms) ms"
                echo "BENCH wrk_cpu_ratio_r$r $cr x"
            } >>"$BENCH_LINES"
        fi
    done
    local median_ratio median_p99 median_cpu
    median_ratio="$(median "${ratios[@]}")"
    median_p99="$(median "${p99s[@]}")"
    median_cpu="$(median "${cpu_ratios[@]}")"
    local verdict version
    # `wrk --version` prints its version and exits 1.
    version="$({ wrk --version 2>&1 || true; } | head -1 | awk '{print $2}')"
    verdict="Targets (medians of the rounds): ratio ≥ 0.50 — **$(awk -v r="$median_ratio" 'BEGIN { print (r + 0 >= 0.5) ? "met" : "missed" }')** ($median_ratio);
versus p99 ≤ 20 ms — **$(awk -v p="$median_p99" 'BEGIN { print (p + 0 <= 20) ? "met" : "missed" }')** ($median_p99 ms);
CPU per alert ≤ 2× the ceiling's — **$(awk -v c="$median_cpu" 'BEGIN { print (c + 0 <= 2) ? "met" : "missed" }')** (${median_cpu}×)."
    WRK_SECTION="<!-- wrk:start -->
## End-to-end under wrk

_Generated by \`bench/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'); rerun it to refresh this section._

\`wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${WRK_DURATION}s\` (wrk $version)
posts \`tests/fixtures/alertmanager/critical.json\` (a distinct \`bench_seq\`
member in each request) to the same ceiling and
gateway as the section above, after a ${WRK_WARMUP} s warm-up each, in
$WRK_ROUNDS rounds (ceiling, then versus, back to back). alerts/s counts 2xx
answers; the latencies are wrk's. CPU per alert is the target's CPU time
over the measured run divided by its answered requests.

| round | ceiling alerts/s | ceiling p99 ms | ceiling CPU µs/alert | versus alerts/s | versus p50 ms | versus p99 ms | versus CPU µs/alert | ratio | CPU ratio | non-2xx+errors (ceiling / versus) |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|$rows

$verdict

<details><summary>Raw wrk output</summary>

\`\`\`json
$WRK_RAW\`\`\`

</details>
<!-- wrk:end -->"
}
