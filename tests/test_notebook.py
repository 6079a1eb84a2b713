"""What a notebook shows for the module's objects (`_repr_html_`): tables as HTML with every
text escaped, and a sparkline per metric."""

from __future__ import annotations

import html.parser
import math

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
