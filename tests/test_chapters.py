"""The chapter contract, checked on the real book, and the parameter parser on its own."""

import subprocess
from pathlib import Path

import pytest

from distinv.book.chapters import chapters, find, parse_parameters, profile_overrides, profiles
from distinv.book.toc import toc_chapters, toc_files
from distinv.errors import DistinvError

REPO = Path(__file__).resolve().parents[1]
BOOK = chapters(REPO)


def test_no_executed_notebook_is_committed():
    tracked = subprocess.run(
        ["git", "ls-files", "book"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    on_disk = [p.relative_to(REPO).as_posix() for p in (REPO / "book").rglob("*.ipynb")]
    offenders = [p for p in tracked + on_disk if p.endswith(".ipynb")]
    assert not offenders, f"the .md is a chapter's only source; remove {offenders}"


def test_every_chapter_is_in_the_toc_and_every_toc_file_exists():
    assert [ch.slug for ch in toc_chapters(REPO)] == [ch.slug for ch in BOOK]
    for f in toc_files(REPO):
        assert list((REPO / f).parent.glob(f"{Path(f).name}.md")), f


@pytest.mark.parametrize("chapter", BOOK, ids=lambda ch: ch.slug)
def test_chapter_contract(chapter):
    assert chapter.params, "the first code cell holds typed parameters"
    tags = [c.metadata.get("tags", []) for c in chapter.notebook.cells if c.cell_type == "code"]
    assert any("remove-cell" in t for t in tags), "claims are asserted in a remove-cell cell"
    assert "metrics.save(" in "".join(c.source for c in chapter.notebook.cells)


@pytest.mark.parametrize("chapter", BOOK, ids=lambda ch: ch.slug)
def test_papermill_reads_the_parameters_as_we_do(chapter):
    # papermill only warns when it cannot parse a line, then injects blindly: hold it to our parse.
    from papermill.translators import PythonTranslator

    cell = next(c for c in chapter.notebook.cells if c.cell_type == "code")
    theirs = {p.name: p.inferred_type_name for p in PythonTranslator.inspect(cell)}
    ours = {p.name: p.type.__name__ for p in chapter.params.values()}
    assert theirs == ours


@pytest.mark.parametrize("profile", list(profiles(REPO)))
def test_profiles_name_real_chapters_and_parameters(profile):
    for slug in profiles(REPO)[profile]:
        chapter = find(slug, REPO)
        chapter.resolve(profile_overrides(chapter, profile, REPO))  # raises on a bad override


def test_long_profile_trains_the_meta_learner_twice_as_long():
    """book/profiles.yml says so; it stays true when the chapter's defaults change."""
    chapter = find("08_meta", REPO)
    long = profiles(REPO)["long"]["08_meta"]
    for name in ("grammar_steps", "scan_steps"):
        assert long[name] == 2 * chapter.params[name].default, name


def test_every_chapter_with_work_has_a_smoke_profile():
    smoke = profiles(REPO)["smoke"]
    for ch in BOOK:
        if ch.slug != "00_intro":
            assert ch.slug in smoke, f"{ch.slug} needs a smoke profile in book/profiles.yml"


def test_find_by_slug_name_and_number():
    assert (
        find("01_scan", REPO).slug == find("scan", REPO).slug == find("1", REPO).slug == "01_scan"
    )
    assert find("physics", REPO).slug == "06_physics"
    with pytest.raises(DistinvError, match="unknown chapter 'chemistry'; known: 00_intro, 01_scan"):
        find("chemistry", REPO)


def test_parse_parameters():
    params = parse_parameters('seed: int = 0  # one seed\nlr: float = 1e-3\nname: str = "a # b"\n')
    assert list(params) == ["seed", "lr", "name"]
    assert params["seed"].comment == "one seed"
    assert params["lr"].coerce("2", "x") == 2.0
    assert params["lr"].coerce(3, "x") == 3.0
    assert params["name"].default == "a # b"


@pytest.mark.parametrize(
    "source",
    ["seed = 0\n", "seed: list = []\n", "seed: int = 'zero'\n", "import os\n", "a.b: int = 1\n"],
)
def test_parse_parameters_rejects_non_flat_cells(source):
    with pytest.raises(DistinvError):
        parse_parameters(source, "x")


@pytest.mark.parametrize(
    "declared, value",
    [("int", "1.5"), ("int", 1.5), ("int", True), ("bool", "yes"), ("float", "nan?")],
)
def test_coerce_rejects_wrong_types(declared, value):
    param = parse_parameters(f"v: {declared} = {'True' if declared == 'bool' else 1}\n")["v"]
    with pytest.raises(DistinvError, match=f"expects {declared}"):
        param.coerce(value, "x")
