#!/usr/bin/env bash
# Installs the system packages the tests and the full feature set use:
# ffmpeg/ffprobe (video metadata, thumbnails, exports), Chromium (browser tests),
# libexempi (XMP sidecars), Node.js (unit tests of the front-end modules). Debian/Ubuntu via apt, macOS via Homebrew; elsewhere
# it says what to install by hand.
set -euo pipefail
need=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v node >/dev/null 2>&1 || need+=(nodejs)
if command -v ldconfig >/dev/null 2>&1; then
  ldconfig -p 2>/dev/null | grep -q libexempi || need+=(libexempi8)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "Installing system packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" fonts-dejavu-core >/dev/null
elif command -v brew >/dev/null 2>&1; then
  brew install ffmpeg exempi || true
  echo "On macOS the browser tests need Chromium at /usr/bin/chromium; they are skipped otherwise."
else
  echo "Please install: ${need[*]} (ffmpeg, chromium, libexempi)." >&2
fi
