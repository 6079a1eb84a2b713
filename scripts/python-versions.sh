#!/usr/bin/env bash
# Installs a built opsml wheel into a fresh virtual environment of each CPython it supports
# besides the development one (3.10, 3.12, 3.13) and runs the quickstart and a smoke part of
# the suite there, against the installed package. An interpreter that is not installed (on
# PATH as pythonX.Y, or under pyenv) is named and skipped; the run fails if none is found.
#   scripts/python-versions.sh target/wheels/opsml_tracker-*.whl
# OPSML_PYTHON_VERSIONS="3.10 3.11 3.12 3.13" picks other versions.
set -euo pipefail

wheel="$1"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
smoke=(test_api_surface.py test_lifecycle.py test_metrics.py test_logging.py)

interpreter() {
    local version="$1"
    for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/python"$version"; do
        if [ -x "$candidate" ]; then
            echo "$candidate"
            return
        fi
    done
    if command -v "python$version" >/dev/null 2>&1 && "python$version" -c '' 2>/dev/null; then
        command -v "python$version"
    fi
}

ran=0
for version in ${OPSML_PYTHON_VERSIONS:-3.10 3.12 3.13}; do
    python="$(interpreter "$version")"
    if [ -z "$python" ]; then
        echo "python-versions: CPython $version is not installed here: not checked" >&2
        continue
    fi
    venv="$work/venv-$version"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet "$wheel" pytest hypothesis numpy
    # Out of the source tree, so that `import opsml` is the installed package.
    mkdir -p "$work/run-$version"
    cp -r "$root/tests" "$root/pyproject.toml" "$work/run-$version/"
    (
        cd "$work/run-$version"
        "$venv/bin/python" "$root/examples/quickstart.py" >/dev/null
        "$venv/bin/python" -m pytest -q -p no:cacheprovider "${smoke[@]/#/tests/}"
    )
    echo "python-versions: CPython $version ($("$venv/bin/python" -V 2>&1)) passed" >&2
    ran=$((ran + 1))
done
if [ "$ran" = 0 ]; then
    echo "python-versions: no other CPython found; nothing was checked" >&2
    exit 1
fi
