"""Live numbers in papers: the `metric` role reads this build's runs; a missing one is an error."""

from pathlib import Path

import pytest

from distinv import metrics
from distinv.book import papers
from distinv.errors import DistinvError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def runs(tmp_path) -> Path:
    (tmp_path / "04_binding").mkdir()
    metrics.save({"acc": 0.98765, "n": 1200}, tmp_path / "04_binding")
    return tmp_path


def test_a_metric_is_read_and_formatted(runs):
    assert papers.value(runs, "04_binding/acc") == "0.9877"
    assert papers.value(runs, "04_binding/acc:.1%") == "98.8%"
    assert papers.value(runs, "04_binding/n") == "1,200"
    text = "Accuracy {metric}`04_binding/acc:.1%` on {metric}`04_binding/n` programs."
    assert papers.references(text) == ["04_binding/acc:.1%", "04_binding/n"]
    papers.check(text, runs)


@pytest.mark.parametrize(
    "ref, match",
    [
        ("04_binding/absent", "wrote no metric 'absent'"),
        ("05_compositional/acc", "05_compositional has no finished run"),
        ("acc", "is not `chapter_slug/metric_name"),
        ("04_binding/acc:.1q", "Unknown format code"),
    ],
)
def test_a_missing_or_malformed_metric_fails(runs, ref, match):
    with pytest.raises((DistinvError, ValueError), match=match):
        papers.check(f"see {{metric}}`{ref}`", runs, "paper.md")


def test_every_paper_reference_is_well_formed():
    refs = [r for p in (REPO / "papers").glob("*.md") for r in papers.references(p.read_text())]
    assert refs, "the papers quote no metric"
    for ref in refs:
        slug, name, _ = papers.parse(ref)
        assert (REPO / "book" / f"{slug}.md").is_file(), f"{ref}: no chapter {slug}"
        assert name.isidentifier()
