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
python3 - "$state/demo.json" > "$state/welcome.env" <<'PY'
import json, shlex, sys
lab = json.load(open(sys.argv[1]))
welcome = lab["welcome"]
say = lambda text="": print(text, file=sys.stderr)
say()
say("The demo phone system is running on 127.0.0.1. Sidetone opens with the demo's welcome")
say(f"link for extension {welcome['extension']}: confirm it, accept the terms, and the phone registers.")
say(f"  Welcome link: {welcome['link']}")
if welcome.get("code"):
    say(f"  Or paste the code: {welcome['code']}")
if welcome.get("far_end"):
    say(f"Then dial {welcome['far_end']}: the demo extension answers and plays a message.")
say("Everything is made up for this run and vanishes when you close the app.")
say()
print(f"link={shlex.quote(welcome['link'])}")
print(f"ca={shlex.quote(welcome['ca_cert'])}")
print(f"discovery={shlex.quote(welcome['discovery_server'])}")
PY
. "$state/welcome.env"
# The demo provider's certificates come from the lab's own CA: trusted as an extra CA, with
# verification on, exactly as a company's private CA would be.
SIDETONE_DEMO=1 SIDETONE_DEMO_FILE="$state/demo.json" SIDETONE_EXTRA_CA_FILE="$ca" \
  SIDETONE_DISCOVERY_SERVER="$discovery" "$app" "$link" || true
exec 9>&-
wait "$lab_pid" || true
