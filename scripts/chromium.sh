#!/usr/bin/env bash
# Prints the path of Debian's Chromium, installing the package first when it is missing (as
# root), for the web UI's end-to-end tests.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        echo "chromium is not installed: apt-get install chromium (as root)" >&2
        exit 1
    fi
    {
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
    } >&2
fi
command -v chromium
