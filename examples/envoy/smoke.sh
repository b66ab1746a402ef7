#!/usr/bin/env bash
# smoke.sh sends the curl checks of examples/envoy/README.md to the Envoys of
# docker-compose.yml and compares each answer (status, Access-Control-*,
# Vary, x-cors-debug) with what `corsctl replay` predicts for the same
# request through the same cors.wasm and configuration. For a forwarded
# request, replay needs the upstream's answer: the script asks the demo API
# directly, with the same request.
#
# From the repository root, with curl and jq:
#
#   make build
#   docker compose -f examples/envoy/docker-compose.yml up -d
#   examples/envoy/smoke.sh
#   docker compose -f examples/envoy/docker-compose.yml down
#
# Environment (the defaults match docker-compose.yml):
#   TARGETS   space-separated NAME=URL of the proxies to check
#             (envoy-1.38=http://127.0.0.1:8138 envoy-1.39=http://127.0.0.1:8139)
#   UPSTREAM  the demo API, asked directly (http://127.0.0.1:8190)
#   CORSCTL, WASM, CONFIG
#             what replay runs (build/corsctl, build/cors.wasm,
#             examples/envoy/cors.json: the configuration docker-compose.yml
#             gives Envoy, which go test ./examples keeps equal)
#   SKIP      comma-separated names of checks to skip ("jwt_authn 401" when
#             the proxy is not Envoy with envoy.yaml's jwt_authn)
#   WAIT      seconds to wait for the API and the proxies to answer (180:
#             the first run of the api service downloads Go modules)
#
# Exit status: 0 when every proxy answered every check as replay predicts,
# 1 otherwise, 2 when something is missing.
set -euo pipefail
export LC_ALL=C # one sort order for the proxy's headers and replay's

TARGETS=${TARGETS:-"envoy-1.38=http://127.0.0.1:8138 envoy-1.39=http://127.0.0.1:8139"}
UPSTREAM=${UPSTREAM:-http://127.0.0.1:8190}
CORSCTL=${CORSCTL:-build/corsctl}
WASM=${WASM:-build/cors.wasm}
CONFIG=${CONFIG:-examples/envoy/cors.json}
SKIP=${SKIP:-}
WAIT=${WAIT:-180}

for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "smoke: $tool is required" >&2; exit 2; }
done
for f in "$CORSCTL" "$WASM" "$CONFIG"; do
  [ -e "$f" ] || { echo "smoke: $f is missing (run make build from the repository root)" >&2; exit 2; }
done

# Wait until every proxy and the upstream answer.
deadline=$(( $(date +%s) + WAIT ))
for url in $UPSTREAM $(for t in $TARGETS; do echo "${t#*=}"; done); do
  until curl -s -o /dev/null "$url/"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "smoke: $url does not answer (is docker compose up?)" >&2
      exit 2
    fi
    sleep 1
  done
done

# normalize reads an HTTP response head (curl -D -) and prints the status,
# then the compared headers, one "name: value" per line, sorted.
normalize() {
  tr -d '\r' | awk '
    NR == 1 { print "status " $2; next }
    /^[^:]+:/ {
      i = index($0, ":"); name = tolower(substr($0, 1, i - 1)); value = substr($0, i + 1)
      sub(/^[ \t]+/, "", value)
      if (name ~ /^access-control-/ || name == "vary" || name == "x-cors-debug") print name ": " value | "sort"
    }'
}

# head_to_json turns a response head into {"status":N,"headers":[[name,value],...]}.
head_to_json() {
  tr -d '\r' | awk '
    NR == 1 { printf "%s\n", $2; next }
    /^[^:]+:/ { i = index($0, ":"); v = substr($0, i + 1); sub(/^[ \t]+/, "", v); printf "%s\t%s\n", tolower(substr($0, 1, i - 1)), v }' |
    jq -R -s -c 'split("\n") | map(select(length > 0)) |
      {status: (.[0] | tonumber), headers: (.[1:] | map(split("\t") | [.[0], (.[1:] | join("\t"))]))}'
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
names=()

# check NAME UPSTREAM METHOD PATH [-H 'Name: value']... [--data BODY]
# records a check and the replay line of its request. UPSTREAM is "api"
# (the demo API answers a forwarded request; it is asked now, for replay)
# or "jwt" (jwt_authn, after the CORS filter, answers 401 itself).
check() {
  local name=$1 kind=$2 method=$3 path=$4
  shift 4
  case ",$SKIP," in *",$name,"*) echo "skip  $name"; return;; esac
  n=$((n + 1))
  names+=("$name")
  printf '%s\0' "$method" "$path" "$@" >"$tmp/args.$n"
  local args=("$@") headers=() i up hjson
  for ((i = 0; i < ${#args[@]}; i++)); do
    if [ "${args[i]}" = "-H" ]; then headers+=("${args[i + 1]}"); fi
  done
  if [ "$kind" = jwt ]; then
    up='{"status":401,"headers":[["www-authenticate","Bearer realm=\"http://127.0.0.1/\""],["content-type","text/plain"]]}'
  else
    up=$(curl -s -o /dev/null -D - -X "$method" "$UPSTREAM$path" ${args[@]+"${args[@]}"} | head_to_json)
  fi
  hjson=$(printf '%s\n' ${headers[@]+"${headers[@]}"} | jq -R -s -c 'split("\n") | map(select(length > 0) | split(": ") | [.[0], (.[1:] | join(": "))])')
  jq -n -c --argjson id "$n" --arg m "$method" --arg p "$path" --argjson h "$hjson" --argjson up "$up" \
    '{id: $id, method: $m, scheme: "http", authority: "127.0.0.1:8080", path: $p, headers: $h, upstream: $up}' >>"$tmp/replay.in"
}

# The checks of examples/envoy/README.md, in its order. (Note the upstream is
# asked once per check, so the demo API sees each request once more.)
check "allowed preflight" api OPTIONS /api/app/orders \
  -H 'Origin: http://localhost:8081' -H 'Access-Control-Request-Method: POST' \
  -H 'Access-Control-Request-Headers: content-type,x-csrf-token'
check "denied preflight" api OPTIONS /api/app/orders \
  -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: POST'
check "public read" api GET /api/public/items -H 'Origin: https://anyone.example'
check "not CORS" api GET /api/public/items
check "credentialed write" api POST /api/app/orders \
  -H 'Origin: http://localhost:8081' -H 'Cookie: demo_session=demo-user' \
  -H 'Content-Type: application/json' --data '{"item":2,"quantity":1}'
check "rejected write" api POST /api/app/orders \
  -H 'Origin: https://evil.example' -H 'Content-Type: application/json' --data '{"item":2,"quantity":1}'
check "two Origin lines" api POST /api/app/orders \
  -H 'Origin: http://localhost:8081' -H 'Origin: https://evil.example' \
  -H 'Content-Type: application/json' --data '{"item":2,"quantity":1}'
check "admin preflight" api OPTIONS /admin/users \
  -H 'Origin: https://admin.invalid' -H 'Access-Control-Request-Method: GET'
check "jwt_authn 401" jwt GET /admin/users -H 'Origin: https://admin.invalid'

[ "$n" -gt 0 ] || { echo "smoke: every check skipped" >&2; exit 2; }

# What the plugin answers, through the same wasm, in the Envoy-emulating host.
"$CORSCTL" replay -config "$CONFIG" -wasm "$WASM" <"$tmp/replay.in" >"$tmp/replay.out"

failures=0
for ((i = 1; i <= n; i++)); do
  want=$(jq -r --argjson id "$i" 'select(.id == $id) | "status \(.status)",
    (.headers | map(select(.[0] | test("^access-control-|^vary$|^x-cors-debug$"))) | map("\(.[0]): \(.[1])") | sort | .[])' "$tmp/replay.out")
  args=()
  while IFS= read -r -d '' a; do args+=("$a"); done <"$tmp/args.$i"
  for target in $TARGETS; do
    got=$(curl -s -o /dev/null -D - -X "${args[0]}" "${target#*=}${args[1]}" ${args[2]+"${args[@]:2}"} | normalize)
    if [ "$got" = "$want" ]; then
      echo "ok    ${target%%=*}  ${names[i - 1]}"
    else
      failures=$((failures + 1))
      echo "FAIL  ${target%%=*}  ${names[i - 1]}"
      diff <(echo "$want") <(echo "$got") | sed 's/^</  replay:/; s/^>/  proxy: /' | grep -v '^---' | grep -v '^[0-9]' || true
    fi
  done
done

if [ "$failures" -ne 0 ]; then
  echo "smoke: $failures answer(s) differ from replay's" >&2
  exit 1
fi
echo "smoke: every proxy answered as replay predicts"
