"""``srma screen``'s terminal interface: highlighting of the protocol's terms (whole
words, simple stemming), the record fitted to the terminal, and an 80x24 tmux session
(Esc cancels a reason, b shows the decision it replaces)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

from rich.console import Console

from conftest import SHARED
from srma.cli.screen import Saved, highlight_terms, record_panel, term_pattern

EXPORTS = SHARED / "fixtures" / "exports"
SRC = Path(__file__).resolve().parents[1] / "src"


def words(text: str, *terms: str) -> list[str]:
    return [text[start:end] for start, end, _ in highlight_terms(text, terms)]


def test_terms_match_whole_words_not_substrings() -> None:
    text = "Rats and a rat; aspiration, ratio, pirate and karate do not count."
    assert words(text, "rat") == ["Rats", "rat"]
    assert words("Strokes, stroke, stroked; but not heatstroke or strokeless", "stroke") == [
        "Strokes", "stroke", "stroked",
    ]  # fmt: skip
    assert words("a review of reviews; not a reviewer", "review") == ["review", "reviews"]
    assert words("Two studies and one study", "study") == ["studies", "study"]
    assert words("rats were used, one rat", "rats") == ["rats", "rat"]
    assert words("randomised, randomized, randomly", "random*") == [
        "randomised", "randomized", "randomly",
    ]  # fmt: skip
    assert words("a case report, case-reports, a case of report", "case report") == [
        "case report", "case-reports",
    ]  # fmt: skip
    assert words("infarcts and infarct size; infarction is another word", "infarct") == [
        "infarcts", "infarct",
    ]  # fmt: skip
    assert words("The Mice", "mice") == ["Mice"]
    assert term_pattern([]) is None and term_pattern(["  "]) is None


def test_include_and_exclude_terms_are_told_apart() -> None:
    found = highlight_terms("A randomised trial, not a review", ["randomised"], ["review"])
    assert [kind for *_, kind in found] == ["include", "exclude"]


def project_with_terms(include: tuple[str, ...], exclude: tuple[str, ...]) -> SimpleNamespace:
    return SimpleNamespace(
        protocol=SimpleNamespace(highlight_include=include, highlight_exclude=exclude)
    )


def a_record(abstract: str, *, keywords: tuple[str, ...] = ()) -> SimpleNamespace:
    return SimpleNamespace(
        id=7, title="Remote ischaemic conditioning in rats with stroke", abstract=abstract,
        authors=["Ana A", "Ben B"], journal="Stroke", year=2020, keywords=list(keywords),
    )  # fmt: skip


def rendered(panel: object, width: int = 80) -> list[str]:
    console = Console(width=width, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(panel)
    return console.export_text().splitlines()


def test_a_long_abstract_is_cut_to_the_height_with_a_note() -> None:
    abstract = " ".join(f"sentence {n} about rats and strokes." for n in range(200))
    project = project_with_terms(("rat",), ("aspiration",))
    record = a_record(abstract, keywords=("stroke", "rat"))
    lines = rendered(record_panel(record, project, "record 7", height=20, width=80))
    assert len(lines) == 20 and all(len(line) <= 80 for line in lines)
    assert "Remote ischaemic conditioning in rats with stroke" in lines[1]
    assert "abstract cut:" in lines[-2] and "f shows the whole record" in lines[-2]
    assert "and the keywords" in lines[-2]
    whole = rendered(record_panel(record, project, "record 7", height=None, width=80))
    assert len(whole) > 40 and "Keywords: stroke; rat" in "\n".join(whole)
    assert "sentence 199" in "\n".join(whole)


def test_a_short_record_is_shown_whole() -> None:
    record = a_record("Short abstract.", keywords=("stroke",))
    lines = rendered(record_panel(record, project_with_terms((), ()), "r", height=20))
    text = "\n".join(lines)
    assert "Short abstract." in text and "Keywords: stroke" in text and "cut" not in text
    assert len(lines) < 20


def test_the_panel_styles_terms_as_whole_words() -> None:
    record = a_record("Aspiration in rats.")
    panel = record_panel(record, project_with_terms(("rat",), ()), "r", height=None)
    body = panel.renderable
    styled = {
        body.plain[span.start : span.end] for span in body.spans if "green" in str(span.style)
    }
    assert styled == {"rats"}


def test_saved_decisions_describe_what_back_replaces() -> None:
    assert Saved(3, "exclude", "wrong outcome", "registry").describe() == (
        "exclude (reason: wrong outcome; note: registry)"
    )
    assert Saved(3, "maybe", None, None).describe() == "maybe (no reason; no note)"


# --- an 80x24 terminal -----------------------------------------------------------------------


class Tmux:
    def __init__(self, name: str) -> None:
        self.name = name

    def keys(self, *keys: str) -> None:
        for key in keys:
            subprocess.run(["tmux", "send-keys", "-t", self.name, key], check=True)
            time.sleep(0.3)

    def screen(self) -> list[str]:
        out = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True,
            check=True,
        )  # fmt: skip
        return out.stdout.splitlines()

    def wait_for(self, text: str, timeout: float = 30) -> list[str]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            lines = self.screen()
            if any(text in line for line in lines):
                return lines
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never showed:\n" + "\n".join(self.screen()))


def srma(*args: str, cwd: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("SRMA_DATABASE_URL", None)
    run = subprocess.run(
        [sys.executable, "-c", "from srma.cli import main; main()", *args], cwd=cwd, env=env,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return run.stdout


def test_screen_in_an_80x24_terminal(tmp_path: Path) -> None:
    srma("init", "rev", "--title", "T", cwd=tmp_path)
    srma("import", "rev", str(EXPORTS / "scopus.ris"), cwd=tmp_path)
    srma("reviewer", "rev", "--add", "Ana", cwd=tmp_path)
    command = shlex.join(
        [sys.executable, "-c", "from srma.cli import main; main()", "screen", "rev",
         "--reviewer", "Ana", "--order", "id"]
    )  # fmt: skip
    name = f"srma-test-{os.getpid()}"
    env = ["-e", f"PYTHONPATH={SRC}", "-e", "SRMA_DATABASE_URL="]
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", name, "-x", "80", "-y", "24", "-c", str(tmp_path),
         *env, f"{command}; echo SCREEN-ENDED; sleep 60"],
        check=True,
    )  # fmt: skip
    tmux = Tmux(name)
    try:
        lines = tmux.wait_for("[i]nclude")
        assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
        assert lines[0].startswith("record 1 | 0 of 6 decided, 6 to go")
        assert "Stress and the brain-gut axis" in lines[2]
        assert any("abstract cut:" in line for line in lines)
        # exclude, then Esc: nothing saved, the same record again
        tmux.keys("e")
        lines = tmux.wait_for("Esc or q cancels")
        assert lines[0].startswith("record 1 |") and "1. wrong population" in "\n".join(lines)
        tmux.keys("Escape")
        lines = tmux.wait_for("exclude cancelled")
        assert lines[0].startswith("record 1 | 0 of 6 decided")
        # exclude with reason 4 and a note; q at the reason prompt cancels too
        tmux.keys("n", "from", "Space", "a", "Space", "registry", "Enter")
        tmux.wait_for("note for the next decision: from a registry")
        tmux.keys("e", "q")
        tmux.wait_for("exclude cancelled")
        tmux.keys("e", "4", "Enter")
        lines = tmux.wait_for("saved: exclude (wrong outcome)")
        assert lines[0].startswith("record 2 | 1 of 6 decided, 5 to go")
        # back: the decision, reason and note being replaced
        tmux.keys("b")
        lines = tmux.wait_for("back: a new decision replaces yours")
        assert lines[0].startswith("record 1 |")
        shown = " ".join(line.strip() for line in lines)  # the line wraps at 80 columns
        assert "exclude (reason: wrong outcome; note: from a registry); s keeps it" in shown
        tmux.keys("i")
        lines = tmux.wait_for("saved: include")
        assert lines[0].startswith("record 2 |")
        assert all(len(line) <= 80 for line in lines) and len(lines) <= 24
        # f: the whole record, scrolled; q quits
        tmux.keys("f")
        time.sleep(1)
        tmux.keys("q")
        tmux.wait_for("SCREEN-ENDED")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], check=False)
    audit = srma("audit", "rev", "--reviewer", "Ana", cwd=tmp_path)
    decided = [line for line in audit.splitlines() if ",Ana," in line]
    assert [line.split(",")[6] for line in decided] == ["exclude", "include"]
    assert "from a registry" in decided[0]


def test_record_text_cannot_act_on_the_terminal() -> None:
    """A title holding ESC[2J, an OSC title or clipboard sequence, or rich markup is shown
    as text: the panel written to a terminal holds no ESC, BEL or bidi override."""
    record = a_record("Abstract \x1b[2J with \u202eevil\x1b]52;c;aGk=\x07 [bold]x[/]")
    record.title = "\x1b]0;pwned\x07Remote conditioning [/] in rats"
    record.authors = ["Ana\x1b[31m A"]
    console = Console(width=80, force_terminal=True, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(record_panel(record, project_with_terms(("rat",), ()), "record 7"))
    written = console.export_text(styles=False)
    assert "Remote conditioning [/] in rats" in written and "[bold]x[/]" in written
    assert "\x1b" not in written and "\x07" not in written and "\u202e" not in written
