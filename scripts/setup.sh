#!/usr/bin/env bash
# Installs the Debian packages s1c needs, only those missing. Idempotent; safe to run every time.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libopenblas-dev libopenblas0-openmp libopenmpi-dev openmpi-bin libhdf5-dev
      libzstd-dev zstd libcjson-dev libpcre2-dev libutf8proc-dev libyaml-dev gnuplot-nox
      libmicrohttpd-dev)  # libmicrohttpd: the HTTP server of `s1c-infer serve`
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all Debian packages present"
fi
