"""plot_metrics draws metric curves in Rust: PNG and SVG, one panel per metric."""

from __future__ import annotations

import math
import struct
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from opsml import plot_metrics, start_experiment, write_report


@pytest.fixture
def uids() -> list[str]:
    out = []
    for name, scale in [("baseline", 1.0), ("tuned", 0.5)]:
        with start_experiment(name=name) as exp:
            for step in range(5_000):
                exp.log_metric("loss", scale / (step + 1), step=step)
                exp.log_metric("accuracy", 1 - scale / (step + 1), step=step)
            exp.log_metric("loss", math.nan, step=5_000)
        out.append(exp.uid)
    return out


class _Page(HTMLParser):
    """Collects tags and text, and checks elements are closed in order."""

    VOID = frozenset({"meta", "br", "img", "input", "link", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self.open_tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in self.VOID:
            self.open_tags.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open_tags, f"</{tag}> closes nothing"
        assert self.open_tags.pop() == tag, f"</{tag}> closes another element"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_png_with_one_panel_per_metric(uids: list[str], tmp_path: Path) -> None:
    one = plot_metrics(uids, names="loss", path=tmp_path / "loss.png")
    assert one == tmp_path / "loss.png"
    single = png_size(one)
    both = png_size(plot_metrics(uids, path=tmp_path / "all.png"))
    # Two metrics sit side by side: twice as wide as one, as tall.
    assert both == (2 * single[0], single[1])
    assert single[0] >= 400
    assert single[1] >= 200


def test_svg_names_every_metric_and_experiment(uids: list[str], tmp_path: Path) -> None:
    path = plot_metrics(uids, path=str(tmp_path / "metrics.svg"))
    root = ET.parse(path).getroot()
    text = " ".join(t for t in root.itertext())
    for label in ["loss", "accuracy", "baseline:0.1.0", "tuned:0.1.0"]:
        assert label in text


def test_default_path_is_metrics_png_in_the_working_directory(
    uids: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert plot_metrics(uids[:1]) == Path("metrics.png")
    assert png_size(tmp_path / "metrics.png")[0] > 0


def test_bad_requests_are_refused_clearly(uids: list[str], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"chart\.jpg"):
        plot_metrics(uids, path=tmp_path / "chart.jpg")
    assert not (tmp_path / "chart.jpg").exists()
    with pytest.raises(ValueError, match="at least one"):
        plot_metrics([])
    with pytest.raises(OSError, match="no-such-dir"):
        plot_metrics(uids, path=tmp_path / "no-such-dir" / "x.png")


def test_a_metric_no_experiment_has_is_named_not_drawn_empty(
    uids: list[str], tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match=r'"nope".*they have accuracy, loss'):
        plot_metrics(uids, names=["loss", "nope"], path=tmp_path / "typo.png")
    assert not (tmp_path / "typo.png").exists()


def test_html_report_is_self_contained_with_one_chart_per_metric(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with start_experiment(
        name="reported", log_hardware=True, hardware_interval=0.1, tags=["a<b"]
    ) as exp:
        exp.log_parameters({"lr": 0.01, "optimizer": "adam & co"})
        for step in range(2_000):
            exp.log_metric("loss", 1 / (step + 1), step=step)
            exp.log_metric("accuracy", step / 2_000, step=step)
            exp.log_metric("lr", 0.01, step=step)
        exp.log_artifact(notes)
    path = write_report([exp.uid], tmp_path / "report.html")
    html = path.read_text()
    page = _Page()
    page.feed(html)
    page.close()
    assert page.open_tags == [], "every element is closed"
    hardware_charts = 2  # CPU and process memory; no GPU here
    assert page.tags.count("svg") == 3 + hardware_charts
    text = " ".join(page.text)
    for expected in [exp.uid, "adam & co", "a<b", "notes.txt", "loss", "accuracy"]:
        assert expected in text
    # Nothing is fetched from anywhere.
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html
    assert "<script" not in html
