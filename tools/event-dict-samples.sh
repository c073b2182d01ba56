#!/usr/bin/env bash
# Sample objects for tools/event-dict.c: drives a fresh Tender (the binary given) through the
# common event types (customers, confirmed payments in a few currencies and brands, captures,
# partial refunds, declines, cancels) and prints each event's data.object, one JSON per line.
set -euo pipefail
B=$1; W=$(mktemp -d /tmp/tender-ds-XXXX); cd $W
$B keygen mk >/dev/null; M=$($B merchant create --data d --name ds)
K=$(sed -n 's/.*"secret_key":"\([^"]*\)".*/\1/p' <<<"$M")
$B serve --listen 127.0.0.1:4397 --data d --master-key-file mk --rate-limit 0 --log-level warn > out 2> log &
tp=$!; trap 'kill $tp; rm -rf $W' EXIT
for _ in $(seq 50); do grep -q listening out 2>/dev/null && break; sleep 0.1; done
u=http://127.0.0.1:4397/v1
c() { curl -s -u "$K:" "$@"; }
for i in $(seq 1 40); do
  amt=$((RANDOM % 90000 + 100))
  cur=$(shuf -n1 -e usd usd usd eur gbp)
  cus=$(c $u/customers -d email=user$i@example.com -d name="Customer $i" -d metadata[order]=$i | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
  pm=$(shuf -n1 -e pm_card_visa pm_card_mastercard pm_card_amex pm_card_visa)
  pi=$(c $u/payment_intents -d amount=$amt -d currency=$cur -d payment_method=$pm -d confirm=true -d customer=$cus -d description="Order $i" | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
  [ $((i % 4)) = 0 ] && c $u/refunds -d payment_intent=$pi -d amount=$((amt / 2)) >/dev/null
  [ $((i % 5)) = 0 ] && { p2=$(c $u/payment_intents -d amount=$amt -d currency=usd -d capture_method=manual -d payment_method=pm_card_visa -d confirm=true | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])'); c -X POST $u/payment_intents/$p2/capture >/dev/null; }
  [ $((i % 7)) = 0 ] && c $u/payment_intents -d amount=$amt -d currency=usd -d payment_method=pm_card_chargeDeclined -d confirm=true >/dev/null
  [ $((i % 6)) = 0 ] && { p3=$(c $u/payment_intents -d amount=$amt -d currency=usd | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])'); c -X POST $u/payment_intents/$p3/cancel >/dev/null; }
  c $u/payment_intents -d amount=$amt -d currency=usd -d payment_method=pm_card_visa -d confirm=true >/dev/null
done
after=""
while :; do
  page=$(c "$u/events?limit=100${after:+&starting_after=$after}")
  python3 -c 'import json,sys; d=json.load(sys.stdin); [print(json.dumps(e["data"]["object"],separators=(",",":"),ensure_ascii=False)) for e in d["data"]]' <<<"$page"
  more=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["data"][-1]["id"] if d["has_more"] and d["data"] else "")' <<<"$page")
  [ -z "$more" ] && break; after=$more
done
