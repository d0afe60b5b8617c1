#!/usr/bin/env bash
# Installs what Sidetone needs on Debian 12 / Ubuntu 22.04+.
#   scripts/setup-debian.sh app    build the desktop app and run the local demo phone system
#   scripts/setup-debian.sh test   all of the above plus the test and benchmark tools
# Idempotent: packages already present are skipped quickly. Needs root or sudo.
set -euo pipefail

profile="${1:-app}"

# Building the shell (Tauri 2 / WebKitGTK 4.1) and the audio, keychain and codec crates.
build_pkgs=(
  build-essential pkg-config cmake file curl ca-certificates
  libwebkit2gtk-4.1-dev libxdo-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev
  libsoup-3.0-dev libgtk-3-dev libasound2-dev libpulse-dev libdbus-1-dev
)
# The local demo phone system (tests/lab): registrar, far-end phone, voicemail, sound, keychain.
lab_pkgs=(
  kamailio kamailio-sqlite-modules kamailio-tls-modules kamailio-websocket-modules
  kamailio-extra-modules kamailio-presence-modules sqlite3 openssl baresip-core baresip-x11 sip-tester coturn dovecot-imapd dnsmasq-base
  pulseaudio pulseaudio-utils gnome-keyring libsecret-tools libglib2.0-bin dbus dbus-x11 keyutils
  sox espeak-ng nodejs npm python3 python3-venv iproute2 nftables
)
# Tests and benchmarks: a display, the real app driven by WebDriver, a browser, screenshots.
test_pkgs=(
  xvfb xauth webkit2gtk-driver chromium xdotool imagemagick xdg-utils desktop-file-utils
  procps psmisc
)

pkgs=("${build_pkgs[@]}" "${lab_pkgs[@]}")
[ "$profile" = test ] && pkgs+=("${test_pkgs[@]}")

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# node and npm may come from elsewhere (nodesource, nvm): keep them if they work.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_opts=(-o DPkg::Lock::Timeout=600 -y --no-install-recommends)
  "${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
  if ! "${sudo_cmd[@]}" apt-get "${apt_opts[@]}" install "${missing[@]}"; then
    # Another install holding the lock can leave dpkg half-configured: repair and retry once.
    "${sudo_cmd[@]}" apt-get "${apt_opts[@]}" --fix-broken install
    "${sudo_cmd[@]}" apt-get "${apt_opts[@]}" install "${missing[@]}"
  fi
else
  echo "setup: Debian packages present"
fi
