#!/usr/bin/env bash
# Regenerates docs/notebook.png (or the PNG named as the first argument), the picture of
# opsml's views in a notebook shown in the README: runs tests/notebooks/views.ipynb (which
# tests/test_notebook.py checks) with nbconvert on a kernel of .venv's Python, in a fresh
# directory on its own default store, and photographs the exported HTML in headless Chromium
# (scripts/chromium.sh) through the web UI's playwright-core.
# Needs `make install` (opsml and requirements-dev.txt in .venv, the web UI's node_modules).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${OPSML_VENV:-$root/.venv}"
ui="$root/crates/opsml-server/ui"
png="$(realpath -m "${1:-$root/docs/notebook.png}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

chromium="$("$root/scripts/chromium.sh")"
if [ ! -d "$ui/node_modules/playwright-core" ]; then
    (cd "$ui" && npm ci --no-audit --no-fund --loglevel=error)
fi

# A kernel of .venv's interpreter, whatever kernels Jupyter knows elsewhere on the machine.
export JUPYTER_PATH="$work/jupyter/share/jupyter" JUPYTER_PLATFORM_DIRS=1
"$venv/bin/python" -m ipykernel install --prefix "$work/jupyter" --name opsml-venv >/dev/null
cp "$root/tests/notebooks/views.ipynb" "$work/views.ipynb"
(
    cd "$work"
    # The notebook's own store in $work, not the one the caller's settings name.
    while read -r name; do unset "$name"; done < <(compgen -e | grep '^OPSML_' || true)
    "$venv/bin/jupyter" nbconvert --to html --execute --log-level=WARN \
        --ExecutePreprocessor.kernel_name=opsml-venv --output views.html views.ipynb
)

mkdir -p "$(dirname "$png")"
cd "$ui"
NOTEBOOK_HTML="$work/views.html" NOTEBOOK_PNG="$png" OPSML_CHROMIUM="$chromium" node - <<'JS'
const { pathToFileURL } = require("node:url");
const { chromium } = require("playwright-core");

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.OPSML_CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    // The exported page asks CDNs for MathJax and require.js: it needs neither.
    await page.route(/^https?:/, (route) => route.abort());
    await page.goto(pathToFileURL(process.env.NOTEBOOK_HTML).href);
    // JupyterLab shows a <pre> of HTML output (a card) in its code font; nbconvert's export
    // template gives it the text font, which breaks the card's columns.
    await page.addStyleTag({
      content: ".jp-OutputArea-output.jp-RenderedHTMLCommon pre { font-family: var(--jp-code-font-family); }",
    });
    await page.screenshot({ path: process.env.NOTEBOOK_PNG, fullPage: true });
  } finally {
    await browser.close();
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
JS
echo "wrote $png"
