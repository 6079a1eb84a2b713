#!/usr/bin/env bash
# Prints the path of a Chromium for the web UI's end-to-end tests: OPSML_CHROMIUM when set,
# else Debian's `chromium` (installed first when missing, as root or through sudo where it
# needs no password), else a Chromium or Chrome already installed (as on CI runners).
set -euo pipefail
if [ -n "${OPSML_CHROMIUM:-}" ]; then
    echo "$OPSML_CHROMIUM"
    exit 0
fi
for name in chromium chromium-browser google-chrome; do
    if command -v "$name" >/dev/null 2>&1; then
        command -v "$name"
        exit 0
    fi
done
{
    "$(dirname "$0")/as-root.sh" apt-get update -qq
    "$(dirname "$0")/as-root.sh" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq chromium
} >&2
command -v chromium
