#!/usr/bin/env bash
# Install the Debian packages the test suite needs, only those missing.
# Runs as root in CI; elsewhere it prints what to install and carries on.
set -euo pipefail

need=()
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim)
if command -v tesseract >/dev/null 2>&1; then
  tesseract --list-langs 2>/dev/null | grep -qx chi_sim || need+=(tesseract-ocr-chi-sim)
fi
# pdftotext is the oracle of tests/test_pdf_oracle.py; poppler-data gives it Adobe's CID tables.
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
[ -e /usr/share/poppler/cidToUnicode/Adobe-GB1 ] || need+=(poppler-data)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v catdoc >/dev/null 2>&1 || need+=(catdoc)
command -v antiword >/dev/null 2>&1 || need+=(antiword)
fc-list 2>/dev/null | grep -qi "wqy\|noto sans cjk" || need+=(fonts-wqy-microhei)
# A Song (Ming) face, as Chinese print is set in: the Chinese scan test renders with it.
[ -e /usr/share/fonts/truetype/arphic/uming.ttc ] || need+=(fonts-arphic-uming)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "Missing Debian packages (tests needing them are skipped): ${need[*]}" >&2
  echo "Install them with: sudo apt-get install ${need[*]}" >&2
  exit 0
fi
echo "Installing Debian packages: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
