# The paired comparison of bench/run.sh (sourced by it, not run alone):
# this build's gateway and another `versus` binary run at the same time,
# each on its own port with the same config, each driven by its own wrk,
# so that both see whatever the machine does meanwhile. Back-to-back runs
# on this kind of machine move by ±20%; paired ones resolve about ±3%.
#
# The two slots are not quite equal (an A/A run gave the second one about
# 2.5% less CPU per alert), so the comparison runs twice with the binaries
# swapped, and the two means are combined (geometric mean), which cancels
# the slot's share.
#
# Uses from run.sh: BIN TMP BODY VERSUS_PID VERSUS_PORT PIDS, and the
# helpers log, cpu_ms, field, free_port; from wrk.sh: ensure_wrk,
# write_wrk_script.
#
# The other slot can also be this build under another config: PAIR_EDIT is
# a sed script applied to the other slot's copy of the bench config, so one
# setting's cost is measured the same way, e.g. the `alertmanager`
# transform step's:
#   PAIR_EDIT='s/^plugins:/plugins:\n  transforms: [alertmanager]/' bench/run.sh
# Then a ratio below 1 is what the setting the edit adds costs (this slot
# does less than the other).
#
# Knobs:
#   PAIR_WITH=path     the other versus binary (turns this mode on)
#   PAIR_EDIT=script   sed script for the other slot's config (turns this
#                      mode on too; the other binary defaults to this build)
#   PAIR_ROUNDS=3 PAIR_DURATION=8 PAIR_CONNECTIONS=32

PAIR_ROUNDS="${PAIR_ROUNDS:-3}"
PAIR_DURATION="${PAIR_DURATION:-8}"
PAIR_CONNECTIONS="${PAIR_CONNECTIONS:-32}"

# pair_start SLOT PORT: starts SLOT's gateway ("this" or "other") on PORT
# with the bench config (PAIR_EDIT applied for "other") and waits until it
# is ready; its pid is left in PAIR_PID.
pair_start() {
    local bin port="$2" edit="" i
    bin="$(pair_bin "$1")"
    [[ "$1" == this ]] || edit="${PAIR_EDIT:-}"
    sed -e "s/^port: .*/port: $port/" \
        -e "s|^public_host: .*|public_host: http://127.0.0.1:$port|" \
        -e "s|cache_dir: .*|cache_dir: \"$TMP/cache-$port\"|" \
        "$TMP/config.yaml" | sed -e "$edit" >"$TMP/config-$port.yaml"
    "${GATEWAY_ENV[@]}" "$bin" --config "$TMP/config-$port.yaml" >"$TMP/versus-$port.log" 2>&1 &
    PAIR_PID=$!
    PIDS+=("$PAIR_PID")
    for ((i = 0; i < 600; i++)); do
        curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
        kill -0 "$PAIR_PID" 2>/dev/null || break
        sleep 0.1
    done
    log "$bin did not get ready on port $port:"
    cat "$TMP/versus-$port.log" >&2
    exit 1
}

# pair_wrk PORT OUT [SECONDS]: one wrk run against PORT, its JSON line in OUT.
pair_wrk() {
    WRK_BODY="$BODY" wrk -t1 -c"$PAIR_CONNECTIONS" -d"${3:-$PAIR_DURATION}s" \
        -s "$TMP/post.lua" "http://127.0.0.1:$1/api/incidents" | grep '^{' | tail -1 >"$2"
}

# pair_both PORT1 PORT2 [SECONDS]: wrk against both ports at once.
pair_both() {
    local w
    pair_wrk "$1" "$TMP/pair1.json" "${3:-}" &
    w=$!
    pair_wrk "$2" "$TMP/pair2.json" "${3:-}"
    wait "$w"
}

# pair_phase FIRST SECOND: FIRST and SECOND ("this" or "other") run side by
# side for PAIR_ROUNDS rounds; each round's this/other ratio of CPU per
# alert is appended to PAIR_RATIOS.
pair_phase() {
    local slot1="$1" slot2="$2" port2 p1 p2 r a0 b0 a1 b1 us t o
    port2="$(free_port)"
    pair_start "$slot1" "$VERSUS_PORT"
    p1="$PAIR_PID"
    pair_start "$slot2" "$port2"
    p2="$PAIR_PID"
    pair_both "$VERSUS_PORT" "$port2" 2
    for ((r = 1; r <= PAIR_ROUNDS; r++)); do
        a0="$(cpu_ms "$p1")"
        b0="$(cpu_ms "$p2")"
        pair_both "$VERSUS_PORT" "$port2"
        a1="$(cpu_ms "$p1")"
        b1="$(cpu_ms "$p2")"
        us="$(awk -v a="$((a1 - a0))" -v b="$((b1 - b0))" \
            -v ra="$(field "$(cat "$TMP/pair1.json")" ok)" \
            -v rb="$(field "$(cat "$TMP/pair2.json")" ok)" \
            'BEGIN { if (ra > 0 && rb > 0) printf "%.1f %.1f", a * 1000 / ra, b * 1000 / rb; else print "0 0" }')"
        log "  $slot1 first, $slot2 second, round $r: $us µs/alert"
        read -r t o <<<"$us"
        [[ "$slot1" == this ]] || read -r o t <<<"$us"
        PAIR_RATIOS+=("$(awk -v t="$t" -v o="$o" 'BEGIN { if (o > 0) printf "%.3f", t / o; else print 0 }')")
    done
    kill "$p1" "$p2" 2>/dev/null || true
    wait "$p1" "$p2" 2>/dev/null || true
}

pair_bin() {
    if [[ "$1" == this ]]; then echo "$BIN/versus"; else echo "${PAIR_WITH:-$BIN/versus}"; fi
}

# pair_measure: prints this build's CPU per alert over the other's, each
# round and combined.
pair_measure() {
    local other
    other="$(pair_bin other)"
    [[ -x "$other" ]] || { log "PAIR_WITH=$other is not an executable"; exit 1; }
    ensure_wrk
    write_wrk_script
    # The gateway run.sh started holds the port the first slot uses.
    kill "$VERSUS_PID" 2>/dev/null || true
    wait "$VERSUS_PID" 2>/dev/null || true
    log "paired: $BIN/versus (this) against $other${PAIR_EDIT:+ with the config edited by '$PAIR_EDIT'} (other), $PAIR_ROUNDS rounds each way"
    local first second
    PAIR_RATIOS=()
    pair_phase this other
    first="${PAIR_RATIOS[*]}"
    PAIR_RATIOS=()
    pair_phase other this
    second="${PAIR_RATIOS[*]}"
    echo "machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
    echo "this/other, CPU per alert, this build in the first slot: $first"
    echo "this/other, CPU per alert, this build in the second slot: $second"
    awk -v f="$first" -v s="$second" 'BEGIN {
        n = split(f, x, " "); m = split(s, y, " ")
        for (i = 1; i <= n; i++) a += x[i]
        for (i = 1; i <= m; i++) b += y[i]
        printf "combined (geometric mean of the two means): %.3f\n", sqrt((a / n) * (b / m))
    }'
}
