"""Shared test set-up: every module in tests/fixtures/ is a pytest plugin of fixtures."""

from pathlib import Path

pytest_plugins = sorted(
    f"tests.fixtures.{p.stem}"
    for p in (Path(__file__).parent / "fixtures").glob("*.py")
    if p.stem != "__init__"
)


def pytest_terminal_summary(terminalreporter, config):  # type: ignore[no-untyped-def]
    """Print the reply corpus's field-level accuracy in every run, CI included."""
    try:
        from tests.integration.test_reply_corpus import CORPUS_REPORT
    except ImportError:
        return
    for report in config.stash.get(CORPUS_REPORT, []):
        terminalreporter.write_sep("-", "reply corpus: field-level accuracy")
        terminalreporter.write_line(report)
