#!/usr/bin/env bash
# Installs what Sidetone needs, builds it, starts the local demo phone system (tests/lab) and
# opens the desktop app against it. `scripts/run.sh --no-demo` opens the app for a real provider.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

demo=1
for arg in "$@"; do
  case "$arg" in
    --no-demo) demo=0 ;;
    -h|--help) sed -n '2,3p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

scripts/setup-debian.sh app
ensure_npm ui
(cd ui && npm run --silent build)
cargo build -p sidetone --locked
app="$CARGO_TARGET_DIR/debug/sidetone"

if [ "$demo" = 0 ]; then
  exec "$app"
fi

# The demo lab lives exactly as long as this script: it stops when its stdin closes.
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
mkfifo "$state/lifeline"
tests/lab/lab up --demo --json --stdin-lifeline < "$state/lifeline" > "$state/demo.json" &
lab_pid=$!
exec 9> "$state/lifeline"
for _ in $(seq 1 300); do
  [ -s "$state/demo.json" ] && break
  kill -0 "$lab_pid" 2>/dev/null || { echo "run.sh: the demo phone system failed to start" >&2; exit 1; }
  sleep 0.1
done
python3 - "$state/demo.json" <<'PY'
import json, sys
lab = json.load(open(sys.argv[1]))["services"]
kam = lab["kamailio"]
user = sorted(kam["users"])[0]
print("\nThe demo phone system is running on 127.0.0.1. To sign in, open the manual login")
print("(three clicks on the logo, or Alt+Shift+M) and enter:")
print(f"  Server:   {kam['udp']};transport=udp")
print(f"  Login ID: {user}")
print(f"  Password: {kam['users'][user]}")
if "baresip" in lab:
    print(f"The demo extension {lab['baresip']['user']} answers and plays a message.")
print("These credentials are made up for this run and vanish when you close the app.\n")
PY
SIDETONE_DEMO=1 SIDETONE_DEMO_FILE="$state/demo.json" "$app" || true
exec 9>&-
wait "$lab_pid" || true
