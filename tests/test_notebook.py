"""What a notebook shows for the module's objects (`_repr_html_`): tables as HTML with every
text escaped, and a sparkline per metric; in a real Jupyter kernel, those views and opsml's
warnings in the cell that caused them."""

from __future__ import annotations

import html.parser
import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from opsml import (
    CardRegistry,
    compare_experiments,
    get_experiment_metrics,
    get_experiment_parameters,
    start_experiment,
)


class Elements(html.parser.HTMLParser):
    """The start tags of an HTML fragment, and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(fragment: str) -> Elements:
    elements = Elements()
    elements.feed(fragment)
    return elements


def test_tables_render_as_html_with_user_text_escaped() -> None:
    hostile = "<script>alert('x')</script>"
    with start_experiment(space="notebook", name="one") as first:
        first.log_parameters({"optimizer": hostile, "lr": 0.1})
        for step in range(50):
            first.log_metric("loss", 1 / (step + 1), step=step)
        first.log_metric("loss", math.nan, step=50)
        first.log_metric("accuracy", 0.9, step=0)
    with start_experiment(space="notebook", name="two") as second:
        second.log_parameters({"optimizer": "sgd", "lr": 0.2})

    parameters = get_experiment_parameters(first.uid)._repr_html_()
    found = parse(parameters)
    assert "script" not in found.tags
    # Shown as Python writes the value, as text: the markup never becomes an element.
    assert "<script>alert(" in "".join(found.text)
    assert found.tags.count("tr") == 3  # the header and two parameters
    assert "2 parameters" in parameters

    cards = CardRegistry("experiment").list_cards(space="notebook")._repr_html_()
    assert parse(cards).tags.count("tr") == 3
    assert "2 cards" in cards

    comparison = compare_experiments([first.uid, second.uid])._repr_html_()
    found = parse(comparison)
    assert "script" not in found.tags
    assert "one:0.1.0" in found.text
    assert "PARAMETERS" in found.text

    metrics = get_experiment_metrics(first.uid)._repr_html_()
    found = parse(metrics)
    # A row per metric, each with its sparkline; NaN is no obstacle to either.
    assert found.tags.count("tr") == 3
    assert found.tags.count("svg") == 1  # one point of accuracy draws no line
    assert found.tags.count("polyline") == 1
    assert "52 points" in metrics

    card = first.card._repr_html_()
    assert card.startswith("<pre>")
    assert "notebook/one" in card or "one" in card


# In a real Jupyter kernel: the views as a notebook shows them, and opsml's warnings in the
# cell that caused them. The kernel runs the notebook in tmp_path on its own default store,
# once whatever store the suite is given.

KERNEL = "opsml-tests"
NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
ANSI = "\x1b["


@pytest.fixture(scope="session")
def kernel_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Jupyter data directory with one kernel: this interpreter (the one opsml is installed
    in), whatever other kernels Jupyter knows on the machine."""
    data = tmp_path_factory.mktemp("jupyter")
    spec = data / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "opsml tests", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel))
    return data


@pytest.fixture
def run_notebook(
    tmp_path: Path, kernel_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[nbformat.NotebookNode], nbformat.NotebookNode]:
    """Executes a notebook in a fresh kernel with tmp_path as its directory, without the
    OPSML_* settings of the test (the default store there, default logging); returns it with
    its outputs."""
    for name in [n for n in os.environ if n.startswith("OPSML_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_path))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    # Connection files and IPython's history stay out of the home directory.
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(kernel_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(kernel_path / "ipython"))

    def run(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
        NotebookClient(
            notebook,
            timeout=60,
            kernel_name=KERNEL,
            resources={"metadata": {"path": str(tmp_path)}},
        ).execute()
        return notebook

    return run


def html_output(cell: nbformat.NotebookNode) -> str:
    """The HTML a code cell shows as its result (`_repr_html_`)."""
    shown = [o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {})]
    assert len(shown) == 1, cell.outputs
    return str(shown[0])


def stderr_output(cell: nbformat.NotebookNode) -> str:
    return "".join(
        o["text"] for o in cell.outputs if o["output_type"] == "stream" and o["name"] == "stderr"
    )


@pytest.mark.sqlite_only("a Jupyter kernel on its own default store: once is enough")
def test_a_notebook_shows_the_views_as_html(
    tmp_path: Path, run_notebook: Callable[[nbformat.NotebookNode], nbformat.NotebookNode]
) -> None:
    notebook = nbformat.read(NOTEBOOKS / "views.ipynb", as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("import sys\nprint(sys.executable)"))
    cells = [c for c in run_notebook(notebook).cells if c.cell_type == "code"]
    run, listed, parameters, metrics, comparison, card, interpreter = cells
    assert interpreter.outputs[0]["text"].strip() == sys.executable
    assert (tmp_path / "opsml.db").exists(), "the notebook did not use the default store"
    # The runs said nothing: no warning, no output.
    assert run.outputs == [], run.outputs

    found = parse(html_output(listed))
    assert "table" in found.tags
    assert found.tags.count("tr") == 3  # the header and two runs
    assert found.text.count("classifier") == 2
    assert "2 cards" in found.text

    found = parse(html_output(parameters))
    assert found.tags.count("tr") == 4  # the header and three parameters
    assert {"lr", "0.03", "optimizer", "'adam'", "batch_size", "64"} <= set(found.text)

    found = parse(html_output(metrics))
    # A row per metric, each with its line chart.
    assert found.tags.count("tr") == 3
    assert found.tags.count("svg") == 2
    assert found.tags.count("polyline") == 2
    assert {"loss", "accuracy"} <= set(found.text)
    assert "120 points" in "".join(found.text)

    found = parse(html_output(comparison))
    assert {"classifier:0.1.0", "classifier:0.2.0", "PARAMETERS", "0.1", "0.03"} <= set(found.text)

    shown = html_output(card)
    assert shown.startswith("<pre>")
    assert "classifier" in shown
    assert ANSI not in json.dumps(notebook)


LINKED_DIRECTORY = """
import pathlib

from opsml import start_experiment

pathlib.Path("checkpoints").mkdir()
pathlib.Path("checkpoints/epoch-9.pt").write_text("weights")
pathlib.Path("tree").mkdir()
pathlib.Path("tree/a.txt").write_text("inside")
pathlib.Path("tree/best.pt").symlink_to(pathlib.Path("checkpoints/epoch-9.pt").resolve())
"""

# A directory with a link to a file outside it: logging it warns (from Rust), naming the link.
LOG_THE_DIRECTORY = """
with start_experiment(space="notebook", name="links") as exp:
    exp.log_artifacts("tree")
"""


@pytest.mark.sqlite_only("a Jupyter kernel on its own default store: once is enough")
def test_a_warning_from_rust_shows_in_the_cell_that_caused_it(
    tmp_path: Path, run_notebook: Callable[[nbformat.NotebookNode], nbformat.NotebookNode]
) -> None:
    message = "logged files that symbolic links point at outside the directory"
    link = f"best.pt -> {(tmp_path / 'checkpoints' / 'epoch-9.pt').resolve()}"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(LINKED_DIRECTORY),
        # Python's default: the message alone on standard error.
        nbformat.v4.new_code_cell(LOG_THE_DIRECTORY),
        # The notebook's own handler, which names the logger.
        nbformat.v4.new_code_cell(
            'import logging\nlogging.basicConfig(format="%(levelname)s %(name)s: %(message)s")'
        ),
        nbformat.v4.new_code_cell(LOG_THE_DIRECTORY),
        # Silenced as any library's warnings are.
        nbformat.v4.new_code_cell('logging.getLogger("opsml").setLevel(logging.ERROR)'),
        nbformat.v4.new_code_cell(LOG_THE_DIRECTORY),
    ]
    setup, default, _, configured, _, silenced = run_notebook(notebook).cells
    assert setup.outputs == [], setup.outputs

    shown = stderr_output(default)
    assert message in shown, default.outputs
    assert link in shown
    assert ANSI not in shown, repr(shown)

    shown = stderr_output(configured)
    assert f"WARNING opsml.experiment.artifacts: {message}" in shown, configured.outputs
    assert link in shown
    assert ANSI not in shown, repr(shown)

    assert silenced.outputs == [], silenced.outputs


READ_BACK_THE_CODE = """
from opsml import CardRegistry
card = CardRegistry("experiment").load_card(uid=exp.uid)
(path,) = card.list_artifacts("code")
print(card.code.root)
print(path)
print(card.download_artifact(path).read_text())
"""


def stdout_output(cell: nbformat.NotebookNode) -> str:
    return "".join(
        o["text"] for o in cell.outputs if o["output_type"] == "stream" and o["name"] == "stdout"
    )


@pytest.mark.sqlite_only("a Jupyter kernel on its own default store: once is enough")
def test_code_capture_in_a_notebook_stores_the_cells_run(
    run_notebook: Callable[[nbformat.NotebookNode], nbformat.NotebookNode],
) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("import opsml\nlearning_rate = 0.25"),
        nbformat.v4.new_markdown_cell("Markdown is not code."),
        nbformat.v4.new_code_cell(
            "with opsml.start_experiment(name='notebook') as exp:\n"
            "    exp.log_parameter('lr', learning_rate)"
        ),
        nbformat.v4.new_code_cell(READ_BACK_THE_CODE),
    ]
    shown = stdout_output(run_notebook(notebook).cells[-1])
    root, path, *source = shown.splitlines()
    assert root == "notebook cells"
    assert path == "code/notebook_cells.py"
    text = "\n".join(source)
    assert "# In[1]:\nimport opsml\nlearning_rate = 0.25" in text
    assert "# In[2]:\nwith opsml.start_experiment(name='notebook') as exp:" in text
    assert "Markdown" not in text


@pytest.mark.sqlite_only("a Jupyter kernel on its own default store: once is enough")
def test_code_capture_stores_the_notebook_file_a_jupyter_server_names(
    tmp_path: Path,
    run_notebook: Callable[[nbformat.NotebookNode], nbformat.NotebookNode],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import opsml\nwith opsml.start_experiment(name='saved') as exp:\n    pass"
        ),
        nbformat.v4.new_code_cell(READ_BACK_THE_CODE),
    ]
    nbformat.write(notebook, tmp_path / "analysis.ipynb")
    # A Jupyter server starts the kernel in the notebook's folder with the notebook's path,
    # relative to the server's root, in JPY_SESSION_NAME.
    monkeypatch.setenv("JPY_SESSION_NAME", "work/analysis.ipynb")
    shown = stdout_output(run_notebook(notebook).cells[-1])
    root, path, *source = shown.splitlines()
    assert root == str(tmp_path / "analysis.ipynb")
    assert path == "code/analysis.ipynb"
    assert (
        nbformat.reads("\n".join(source), as_version=4).cells[0].source.startswith("import opsml")
    )
