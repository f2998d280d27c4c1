#!/usr/bin/env bash
# scripts/demo.sh — shows DupWatch at work on the local Redis, with a worker running
# (scripts/run.sh in another terminal). It
#   1. resets the demo customers demo-alice and demo-bob (admin user: DEL their cart:{C},
#      orders:{C}, history:{C}, events:{C} and order:{C}:* keys), and makes the worker drop
#      what it remembers about them (see below);
#   2. pushes the two survey scenarios with redis-cli XADD as the producer user, with explicit
#      `ts` values days apart:
#        alice: ordered Organic Milk 1L on 2026-11-06 (delivered); adds 2 to her cart on
#               2026-11-20, leaves, adds it again on 2026-11-23  -> cart alert + order alert
#        bob:   order O-DEMO-1 (2 x Organic Milk 1L, 1 x Bread) on 2026-11-20, processing;
#               order O-DEMO-2 with the same items on 2026-11-23 -> one order alert per SKU
#      plus three broken entries (no customer_id, qty "abc", items not JSON) -> dead letters;
#   3. waits (up to 10 s) until the consumer group has processed them, then prints the new
#      alerts and the new dead letters.
# If no worker processes the entries it says so (start one with scripts/run.sh); the entries
# stay in the streams and are processed when a worker starts.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

WAIT_SECONDS="${DUPWATCH_DEMO_WAIT:-10}"
GROUP=dupwatch
CART=stream:cart:events
PLACED=stream:order:placed
STATUS=stream:order:status
ALERTS=stream:alerts:duplicate
DEADLETTER=stream:deadletter
LEASE="dupwatch:lease:$GROUP"

command -v redis-cli >/dev/null 2>&1 || die "redis-cli not found; run scripts/install-deps.sh"
require_credentials
admin() { rcli admin --no-auth-warning --raw "$@"; }
producer() { rcli producer --no-auth-warning --raw "$@"; }

reply="$(admin PING 2>&1 || true)"
[[ "$reply" == "PONG" ]] ||
    die "Redis does not answer on port $REDIS_PORT ($reply): start Redis and the worker with scripts/run.sh"

# ---------------------------------------------------------------------------------------
# 1. Reset the demo customers.
for customer in demo-alice demo-bob; do
    keys=("cart:{$customer}" "orders:{$customer}" "history:{$customer}" "events:{$customer}")
    while IFS= read -r key; do
        [[ -n "$key" ]] && keys+=("$key")
    done < <(admin --scan --pattern "order:{$customer}:*")
    admin DEL "${keys[@]}" >/dev/null
done

# A running worker keeps the customers it wrote in memory and trusts that cache for as long
# as it holds the group's lease. Deleting the lease makes it drop the cache and take the
# lease again (within about a second), so it reloads the customers just reset.
holder="$(admin GET "$LEASE")"
if [[ -n "$holder" ]]; then
    admin DEL "$LEASE" >/dev/null
    for _ in $(seq 1 50); do
        [[ -n "$(admin GET "$LEASE")" ]] && break
        sleep 0.1
    done
fi
echo "Reset customers demo-alice and demo-bob."

# ---------------------------------------------------------------------------------------
# 2. Push the scenarios.
last_id() { # the newest entry id of a stream, or 0-0
    local id
    id="$(producer XREVRANGE "$1" + - COUNT 1 | head -n 1)"
    [[ "$id" =~ ^[0-9]+-[0-9]+$ ]] && echo "$id" || echo "0-0"
}
alerts_before="$(last_id "$ALERTS")"
deadletters_before="$(last_id "$DEADLETTER")"

declare -A pushed_last=()
push() { # push STREAM field value ...
    local stream="$1" id
    shift
    id="$(producer XADD "$stream" '*' "$@")"
    [[ "$id" =~ ^[0-9]+-[0-9]+$ ]] || die "XADD to $stream as producer failed: $id"
    pushed_last[$stream]="$id"
}

MILK_BREAD='[{"sku":"MILK-1L","qty":2,"title":"Organic Milk 1L"},{"sku":"BREAD","qty":1,"title":"Bread"}]'

# Scenario 1: alice.
push "$PLACED" order_id O-DEMO-A0 customer_id demo-alice status processing ts 2026-11-06T09:12:00Z \
    items '[{"sku":"MILK-1L","qty":1,"title":"Organic Milk 1L"}]'
push "$STATUS" order_id O-DEMO-A0 customer_id demo-alice status delivered ts 2026-11-07T15:40:00Z
push "$CART" type add customer_id demo-alice sku MILK-1L qty 2 title "Organic Milk 1L" \
    ts 2026-11-20T18:30:00Z event_id demo-alice-c1
push "$CART" type add customer_id demo-alice sku MILK-1L qty 2 title "Organic Milk 1L" \
    ts 2026-11-23T08:05:00Z event_id demo-alice-c2

# Scenario 2: bob.
push "$PLACED" order_id O-DEMO-1 customer_id demo-bob status processing ts 2026-11-20T10:00:00Z items "$MILK_BREAD"
push "$PLACED" order_id O-DEMO-2 customer_id demo-bob status processing ts 2026-11-23T10:00:00Z items "$MILK_BREAD"

# Three broken entries.
push "$CART" type add sku MILK-1L qty 1 ts 2026-11-23T11:00:00Z
push "$CART" type add customer_id demo-bob sku MILK-1L qty abc ts 2026-11-23T11:01:00Z
push "$PLACED" order_id O-DEMO-3 customer_id demo-bob items 'two milks please' ts 2026-11-23T11:02:00Z

cat <<'EOF'
Pushed (as the producer user):
  demo-alice  2026-11-06  order O-DEMO-A0: 1 x Organic Milk 1L; 2026-11-07 status delivered
  demo-alice  2026-11-20  cart: add 2 x Organic Milk 1L   -> order alert (she ordered it on 2026-11-06)
  demo-alice  2026-11-23  cart: add 2 x Organic Milk 1L   -> cart alert (in her cart since 2026-11-20)
                                                           + order alert (order O-DEMO-A0)
  demo-bob    2026-11-20  order O-DEMO-1: 2 x Organic Milk 1L, 1 x Bread (processing)
  demo-bob    2026-11-23  order O-DEMO-2: the same items  -> 2 order alerts (O-DEMO-1, 2026-11-20)
  broken: a cart entry without customer_id, one with qty "abc", an order whose items is not JSON
EOF

# ---------------------------------------------------------------------------------------
# 3. Wait until the group's committed position is past our entries (DupWatch moves it in the
#    same MULTI/EXEC as their effects).
id_ge() { # id_ge A B: A >= B for stream ids ms-seq
    local a_ms="${1%-*}" a_seq="${1#*-}" b_ms="${2%-*}" b_seq="${2#*-}"
    ((a_ms > b_ms || (a_ms == b_ms && a_seq >= b_seq)))
}
processed() { # the group's last-delivered-id (DupWatch's committed position) covers what we pushed to $1
    local stream="$1" info delivered
    info="$(admin XINFO GROUPS "$stream" 2>/dev/null || true)"
    delivered="$(awk -v g="$GROUP" '
        prev == "name" { current = $0 }
        current == g && prev == "last-delivered-id" { print; exit }
        { prev = $0 }' <<<"$info")"
    [[ "$delivered" =~ ^[0-9]+-[0-9]+$ ]] && id_ge "$delivered" "${pushed_last[$stream]}"
}

echo
echo "Waiting up to ${WAIT_SECONDS}s for the worker..."
deadline=$((SECONDS + WAIT_SECONDS))
done=false
while ((SECONDS < deadline)); do
    all=true
    for stream in "${!pushed_last[@]}"; do
        processed "$stream" || { all=false; break; }
    done
    if $all; then
        done=true
        break
    fi
    sleep 0.2
done

if ! $done; then
    echo
    if [[ -z "$(admin GET "$LEASE")" ]]; then
        echo "No worker is running: start it with scripts/run.sh (in another terminal), then run scripts/demo.sh again."
    else
        echo "A worker holds the lease ($(admin GET "$LEASE")) but did not process the entries within ${WAIT_SECONDS}s;"
        echo "check its log, and .build/release/dupwatch status (source var/credentials.env first)."
    fi
    echo "The entries stay in the streams: a worker started later processes them."
    exit 1
fi

# ---------------------------------------------------------------------------------------
# Print entries readably: the id, then one "field: value" line per field. In the flat --raw
# output an entry id can only appear where a field name is expected (field names never
# look like ids), which is how entries are told apart.
print_entries() {
    awk '
        NR == 1 && !/^[0-9]+-[0-9]+$/ { next }          # XREAD: the stream name
        expect_field && /^[0-9]+-[0-9]+$/ { if (n++) print ""; print "  " $0; next }
        expect_field { field = $0; expect_field = 0; next }
        { printf "    %-14s %s\n", field ":", $0; expect_field = 1 }
        BEGIN { expect_field = 1 }
        END { if (!n) print "  (none)" }'
}

echo
echo "New alerts (redis-cli XREAD COUNT 100 STREAMS $ALERTS $alerts_before):"
producer XREAD COUNT 100 STREAMS "$ALERTS" "$alerts_before" | print_entries
echo
echo "New dead letters (redis-cli XREAD COUNT 100 STREAMS $DEADLETTER $deadletters_before):"
producer XREAD COUNT 100 STREAMS "$DEADLETTER" "$deadletters_before" | print_entries
cat <<'EOF'

Look further (after: source var/credentials.env):
  .build/release/dupwatch history demo-bob
  .build/release/dupwatch cart demo-alice
  .build/release/dupwatch check demo-bob --items '[{"sku":"BREAD","qty":1}]'
  .build/release/dupwatch deadletter list
  .build/release/dupwatch status
EOF
