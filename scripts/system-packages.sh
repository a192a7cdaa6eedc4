#!/usr/bin/env bash
# Debian packages the test suite needs: Chromium for the browser tests, poppler-utils
# (pdftoppm) to look at PDFs, fonts (CJK included), Pango for WeasyPrint and gettext (msgfmt)
# to compile the Chinese catalogue (make messages).
# Installs only what is missing; needs root (or sudo) the first time.
set -euo pipefail
PACKAGES=(chromium poppler-utils fonts-noto-cjk fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 gettext)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing Debian packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
