#!/usr/bin/env bash
# Runs a command as root: directly when this is root, through sudo where it asks for no
# password (CI runners); otherwise says what to run and fails.
set -euo pipefail
if [ "$(id -u)" = 0 ]; then
    exec "$@"
fi
if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    exec sudo -n "$@"
fi
echo "needs root: $*" >&2
exit 1
