# Shared settings for scripts/run.sh and scripts/test.sh (sourced, not run).
# Build caches live outside the checkout so a fresh clone reuses them; everything still
# works from cold.
export SIDETONE_CACHE="${SIDETONE_CACHE:-$HOME/.cache/sidetone}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$SIDETONE_CACHE/target}"
export SIDETONE_VENV="${SIDETONE_VENV:-$SIDETONE_CACHE/venv}"
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
if ! command -v cargo >/dev/null; then
  echo "Sidetone needs the Rust toolchain (stable >= 1.95): see https://rustup.rs" >&2
  exit 1
fi

# The Python tools of the lab's tests and benchmarks, in a venv keyed by tests/requirements.txt.
ensure_python_venv() {
  local stamp="$SIDETONE_VENV/.requirements.sha256"
  local want
  want=$(sha256sum tests/requirements.txt | cut -d' ' -f1)
  if [ ! -x "$SIDETONE_VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: Python venv at $SIDETONE_VENV"
    python3 -m venv "$SIDETONE_VENV"
    "$SIDETONE_VENV/bin/pip" install -q --disable-pip-version-check -r tests/requirements.txt
    echo "$want" > "$stamp"
  fi
}

# npm packages of a folder, from its lockfile; skipped when the lockfile has not changed.
ensure_npm() {
  local dir="$1"
  local want
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ ! -d "$dir/node_modules" ] || [ "$(cat "$dir/node_modules/.lock.sha256" 2>/dev/null)" != "$want" ]; then
    echo "setup: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$dir/node_modules/.lock.sha256"
  fi
}
