#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite: formatting, lints, Rust unit and
# integration tests, front-end flow tests in Chromium, and the lab's tests against real servers.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

step() { printf '\n==== %s\n' "$*"; }

export SIDETONE_SUITE_START="$(date +%s)"

step "install"
scripts/setup-debian.sh test
ensure_python_venv
ensure_npm ui
# WebDriver for the real app (2.x: a plain install would pick the 3.0 alpha).
command -v tauri-driver >/dev/null || cargo install tauri-driver --version '^2' --locked

step "front end: type check, unit tests and build"
(cd ui && npm run --silent check && npm run --silent test && npm run --silent build)

step "rust: format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "rust: tests"
cargo test --workspace --locked

step "build the binaries the end-to-end tests drive"
cargo build -p sidetone -p sidetone-cli --locked

step "front end: flow tests in Chromium"
(cd ui && npm run --silent test:e2e)

step "lab and end-to-end tests against real servers"
"$SIDETONE_VENV/bin/python" -m pytest tests -q
