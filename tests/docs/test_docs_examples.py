"""Every example of the documentation runs as written (README.md and docs/*.md): Python
blocks (``>>>`` blocks as doctests; a block's closing comment lines are what it must print)
and shell blocks, in page order, each page in its own scratch folder
(:mod:`tests.docs.sandbox`). A block that cannot run here carries ``<!-- not-run: REASON
-->``, and the reason is checked to be there. Blocks that load a model, start a server or
index a corpus are marked ``slow``."""

from __future__ import annotations

import doctest
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.docs.examples import MARKERS, ROOT, Example, all_examples
from tests.docs.sandbox import TIMEOUT, PageSandbox
from tests.helpers import DEMO_INDEX_GROUP
from tests.helpers.shim import ShimProcess

EXAMPLES = all_examples()
SHARED = ROOT.parent / "shared"  # as tests/conftest.py finds it
# Markers other tests look for (tests/es_rerank/elastic/test_endpoint_services.py reads its
# block by it).
NAMED_BLOCKS = {"endpoint-examples"}


@dataclass
class DocsRun:
    """The session's sandboxes, the blocks already run, and the shim for ``run-with``."""

    base: Path
    tiny_model: Path
    cache: Path  # ES_RERANK_CACHE of every page
    sandboxes: dict[Path, PageSandbox] = field(default_factory=dict)
    outcomes: dict[str, str | None] = field(default_factory=dict)  # id -> error or None
    shim: ShimProcess | None = None

    def sandbox(self, page: Path) -> PageSandbox:
        if page not in self.sandboxes:
            folder = self.base / page.relative_to(ROOT).as_posix().replace("/", "_")
            shared = SHARED if SHARED.is_dir() else None
            self.sandboxes[page] = PageSandbox(folder, self.cache, self.tiny_model, shared)
        return self.sandboxes[page]

    def shim_port(self) -> int:
        if self.shim is None:
            self.shim = ShimProcess(["--model", str(self.tiny_model)])
        return int(self.shim.url.rsplit(":", 1)[1])

    def run_through(self, ex: Example) -> None:
        """Run the page's earlier runnable blocks (once), then ``ex``."""
        for earlier in EXAMPLES:
            if earlier.page != ex.page or earlier.line > ex.line or skip_reason(earlier):
                continue
            if earlier.id not in self.outcomes:
                try:
                    self.execute(earlier)
                    self.outcomes[earlier.id] = None
                except AssertionError as exc:
                    self.outcomes[earlier.id] = str(exc)
            error = self.outcomes[earlier.id]
            if earlier is ex and error is not None:
                raise AssertionError(error)
            assert error is None, f"an earlier block of the page failed ({earlier.id}): {error}"

    def execute(self, ex: Example) -> None:
        box = self.sandbox(ex.page)
        if "server" in ex.markers:
            box.serve_each(ex)
            return
        if "run-with" in ex.markers:
            assert ex.markers["run-with"] == "shim", ex.markers
            box.shim_port = self.shim_port()
        done = box.run(ex)
        assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        promised = ex.promised_output
        if promised is not None and not ex.is_doctest:
            checker = doctest.OutputChecker()
            flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
            assert checker.check_output(promised + "\n", done.stdout, flags), (
                f"printed:\n{done.stdout}\npromised:\n{promised}"
            )


def skip_reason(ex: Example) -> str | None:
    if "not-run" in ex.markers:
        return f"not-run: {ex.markers['not-run']}"
    if "runs-in" in ex.markers:
        return None
    if "../shared" in ex.code and not SHARED.is_dir():
        return f"needs {SHARED} (models and datasets beside the project), absent here"
    return None


@pytest.fixture(scope="session")
def docs_run(
    tmp_path_factory: pytest.TempPathFactory, tiny_cross_encoder: Path, es_rerank_cache: Path
) -> Iterator[DocsRun]:
    run = DocsRun(tmp_path_factory.mktemp("docs-examples"), tiny_cross_encoder, es_rerank_cache)
    yield run
    if run.shim is not None:
        run.shim.terminate()


def _group(ex: Example) -> str:
    """The pytest-xdist group: a page's blocks run in order in one worker (they share its
    sandbox); the demo page's with the other users of the demo index."""
    page = ex.page.relative_to(ROOT).as_posix()
    return DEMO_INDEX_GROUP if page == "docs/demo.md" else page


def _param(ex: Example) -> object:
    # a slow block may run its page's earlier blocks first, each within TIMEOUT
    slow = [pytest.mark.slow, pytest.mark.timeout(2 * TIMEOUT)]
    marks = [pytest.mark.xdist_group(_group(ex)), *(slow if ex.slow else [])]
    return pytest.param(ex, id=ex.id, marks=marks)


@pytest.mark.parametrize("ex", [_param(ex) for ex in EXAMPLES])
def test_example_runs(ex: Example, docs_run: DocsRun) -> None:
    reason = skip_reason(ex)
    if reason is not None:
        pytest.skip(reason)
    if "runs-in" in ex.markers:
        other = ROOT / ex.markers["runs-in"]
        assert other.is_file(), other
        assert ex.page.relative_to(ROOT).as_posix() in other.read_text(), (
            f"{other} does not read {ex.page}"
        )
        return
    docs_run.run_through(ex)


def test_every_skipped_example_says_why() -> None:
    for ex in EXAMPLES:
        assert set(ex.markers) <= set(MARKERS) | NAMED_BLOCKS, (ex.id, ex.markers)
        if "not-run" in ex.markers:
            assert len(ex.markers["not-run"].split()) >= 2, (ex.id, "a not-run needs a reason")
        for key in ("runs-in", "run-shortened"):
            if key in ex.markers:
                assert ex.markers[key], (ex.id, f"{key} needs a value")


def summary() -> str:
    """How many examples run, and why the others do not.

    ``python -m tests.docs.test_docs_examples`` prints it."""
    skipped = Counter(r for ex in EXAMPLES if (r := skip_reason(ex)) is not None)
    elsewhere = sum("runs-in" in ex.markers for ex in EXAMPLES)
    slow = sum(ex.slow for ex in EXAMPLES if skip_reason(ex) is None)
    ran = len(EXAMPLES) - sum(skipped.values())
    lines = [
        f"{len(EXAMPLES)} examples in {len({ex.page for ex in EXAMPLES})} pages: {ran} run "
        f"({slow} marked slow, {elsewhere} by the test they name), {sum(skipped.values())} skipped"
    ]
    lines += [f"  {n} x {reason}" for reason, n in skipped.most_common()]
    return "\n".join(lines)


def test_most_examples_run() -> None:
    not_run = sum("not-run" in ex.markers for ex in EXAMPLES)
    assert EXAMPLES and not_run < len(EXAMPLES) / 2, summary()


if __name__ == "__main__":
    print(summary())
