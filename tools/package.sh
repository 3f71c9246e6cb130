#!/usr/bin/env bash
# Packs the laid-out module (out/Molt, from `dotnet build`) into out/Molt-<version>.tar.gz.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f out/Molt/Molt.psd1 ] || { echo "out/Molt is missing: run 'dotnet build src/Molt.PowerShell -c Release' first" >&2; exit 1; }
version=$(sed -nE "s/^ *ModuleVersion *= *'([^']+)'.*/\1/p" Molt.psd1)
tar -C out -czf "out/Molt-${version}.tar.gz" Molt
echo "out/Molt-${version}.tar.gz"
