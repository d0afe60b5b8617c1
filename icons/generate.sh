#!/usr/bin/env bash
# Regenerates the app icon set and the tray icons from the SVG sources in this folder.
# Needs rsvg-convert (Debian: librsvg2-bin) and Node.js (for the Tauri CLI from npm).
set -euo pipefail
cd "$(dirname "$0")"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
npx --yes @tauri-apps/cli@2.12.5 icon source.svg -o "$out" >/dev/null
# Keep the desktop set only (no iOS, Android or Windows Store tiles).
for f in 32x32.png 64x64.png 128x128.png 128x128@2x.png icon.png icon.icns icon.ico; do
  cp "$out/$f" "$f"
done
for state in registered offline missed; do
  rsvg-convert -w 32 -h 32 "tray/$state.svg" -o "tray-$state.png"
done
