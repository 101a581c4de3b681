"""The documentation stays true: README.md, docs/*.md and the VLM's model card are checked against the repository
and the CLI.

- every relative link points to an existing file (and, for a ``#anchor`` into a Markdown page, a heading);
- every ``groundsight SUBCOMMAND [--option ...]`` shown in a code block or inline code is a real subcommand
  with real options (introspected from the click command behind the typer app);
- every ``python -m benchmarks.NAME`` names an existing ``benchmarks/NAME.py``, and no page tells anyone to
  run ``python benchmarks/NAME.py`` or to import our packages outside the ``groundsight`` namespace.

The checkers are plain functions over text, so the tests at the bottom feed them a broken page and make sure
they complain.
"""

from __future__ import annotations

import re
import shlex
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    ROOT / "perception/models/groundsight-vlm/README.md",
]

FENCE = re.compile(r"^(```+|~~~+)\s*([\w+-]*)")
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
COMMAND_LINE = re.compile(r"^(?:\$\s+)?(?:[\w./-]*/)?(?:python(?:3(?:\.\d+)?)?\s+-m\s+)?groundsight\s+(.*)$")
OPTION = re.compile(r"(?<![\w/.:=-])(--?[A-Za-z][\w-]*)")
BENCHMARK_MODULE = re.compile(r"python(?:3(?:\.\d+)?)?\s+-m\s+benchmarks\.(\w+)")
BENCHMARK_SCRIPT = re.compile(r"python(?:3(?:\.\d+)?)?\s+benchmarks/\w+\.py")
BARE_IMPORT = re.compile(r"^\s*(?:from|import)\s+(agent|perception|reasoning|knowledge|sim|scenarios)\b", re.M)
COMMAND_LANGUAGES = {"", "console", "bash", "sh", "shell", "text", "zsh"}


# ------------------------------------------------------------------------------------------------ page parsing
def split_blocks(text: str) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """The fenced code blocks (language, lines) and the prose lines outside them."""
    blocks: list[tuple[str, list[str]]] = []
    prose: list[str] = []
    fence, language, lines = None, "", []
    for line in text.splitlines():
        match = FENCE.match(line.strip())
        if fence is None and match:
            fence, language, lines = match.group(1), match.group(2).lower(), []
        elif fence is not None and line.strip().startswith(fence) and line.strip().strip(fence[0]) == "":
            blocks.append((language, lines))
            fence = None
        elif fence is not None:
            lines.append(line)
        else:
            prose.append(line)
    return blocks, prose


def inline_code(prose: list[str]) -> list[str]:
    """Every inline code span of the prose (a span may not cross a line)."""
    return [m.group(2).strip() for line in prose for m in INLINE_CODE.finditer(line)]


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@lru_cache
def anchors(text: str) -> set[str]:
    """The heading anchors of a Markdown text (repeated headings get -1, -2, ... as on GitHub)."""
    seen: dict[str, int] = {}
    out: set[str] = set()
    _, prose = split_blocks(text)
    for line in prose:
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            base = slug(match.group(1))
            count = seen.get(base, 0)
            out.add(base if count == 0 else f"{base}-{count}")
            seen[base] = count + 1
    return out


# ------------------------------------------------------------------------------------------------ links
def broken_links(page: Path, text: str | None = None) -> list[str]:
    """Relative links of a page whose file (or heading) does not exist, each as 'target: why'."""
    text = page.read_text(encoding="utf-8") if text is None else text
    _, prose = split_blocks(text)
    problems = []
    for line in prose:
        for target in LINK.findall(INLINE_CODE.sub("", line)):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            path_part, _, anchor = target.partition("#")
            if not path_part:
                if anchor not in anchors(text):
                    problems.append(f"{target}: no heading #{anchor} in {page.name}")
                continue
            file = (page.parent / path_part).resolve()
            if not file.exists():
                problems.append(f"{target}: no file {file.relative_to(ROOT) if file.is_relative_to(ROOT) else file}")
            elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text(encoding="utf-8")):
                problems.append(f"{target}: no heading #{anchor} in {file.name}")
    return problems


# ------------------------------------------------------------------------------------------------ commands
@lru_cache
def cli():
    """The click command behind the typer app."""
    import typer

    from groundsight.agent.cli import app

    return typer.main.get_command(app)


def options_of(command) -> set[str]:
    """Every option spelling of a click command (with --help)."""
    names = {"--help"}
    for param in command.params:
        if param.param_type_name == "option":
            names.update(param.opts)
            names.update(param.secondary_opts)
    return names


def shown_commands(text: str) -> list[str]:
    """The argument strings of every ``groundsight ...`` command a page shows in code."""
    blocks, prose = split_blocks(text)
    found: list[str] = []
    for language, lines in blocks:
        if language not in COMMAND_LANGUAGES:
            continue
        last_was_command = False
        for line in lines:
            stripped = line.strip()
            if last_was_command and stripped.startswith(("[-", "--")):
                found[-1] += " " + stripped  # a usage line continued on the next line
                continue
            last_was_command = False
            for part in re.split(r"\s+(?:\||&&)\s+", stripped):
                match = COMMAND_LINE.match(part.strip())
                if match:
                    found.append(match.group(1))
                    last_was_command = True
    for span in inline_code(prose):
        for part in re.split(r"\s+(?:\||&&)\s+", span):
            match = COMMAND_LINE.match(part.strip())
            if match:
                found.append(match.group(1))
    return found


def words_of(arguments: str) -> list[str]:
    """The words of a command line without comments and quoted values."""
    arguments = re.sub(r"\s#.*$", "", " " + arguments).strip()
    try:
        return shlex.split(arguments)
    except ValueError:  # an unbalanced quote in a usage line
        return re.sub(r"(['\"]).*?\1", "ARG", arguments).split()


def command_problems(arguments: str) -> list[str]:
    """What is wrong with one shown command line: an unknown subcommand or option."""
    command, path, words = cli(), ["groundsight"], words_of(arguments)
    while words and hasattr(command, "commands"):
        word = words[0].strip("[]")
        if word.startswith("-"):
            bad = [opt for opt in OPTION.findall(word) if opt not in options_of(command)]
            if bad:
                return [f"{' '.join(path)}: no option {bad[0]}"]
            words = words[1:]
            continue
        if word.isupper() or word in {"...", "…"}:  # a placeholder such as COMMAND
            return []
        if word not in command.commands:
            return [f"{' '.join(path)}: no subcommand {word!r} (has: {', '.join(sorted(command.commands))})"]
        command, path, words = command.commands[word], [*path, word], words[1:]
    known = options_of(command)
    problems = []
    for word in words:
        for option in OPTION.findall(word):
            if word.startswith(("'", '"')):
                continue
            if option not in known:
                problems.append(f"{' '.join(path)}: no option {option}")
    return problems


def bad_commands(text: str) -> list[str]:
    """Every problem of every groundsight command a page shows."""
    return [f"`groundsight {args}`: {p}" for args in shown_commands(text) for p in command_problems(args)]


def is_benchmark(name: str) -> bool:
    """Whether benchmarks/NAME.py exists."""
    return (ROOT / "benchmarks" / f"{name}.py").is_file()


def bad_benchmarks(text: str) -> list[str]:
    """Benchmark modules that do not exist, and benchmarks run as scripts instead of modules."""
    names = BENCHMARK_MODULE.findall(text)
    missing = [name for name in names if not name.isupper() and not is_benchmark(name)]  # NAME is a placeholder
    problems = [f"benchmarks.{name}: no benchmarks/{name}.py" for name in missing]
    problems += [f"{m}: run benchmarks as python -m benchmarks.NAME" for m in BENCHMARK_SCRIPT.findall(text)]
    return problems


def bare_imports(text: str) -> list[str]:
    """Imports in Python code blocks of our packages outside the groundsight namespace."""
    blocks, _ = split_blocks(text)
    python = "\n".join("\n".join(lines) for language, lines in blocks if language in {"python", "py", "pycon"})
    python = re.sub(r"^>>> |^\.\.\. ", "", python, flags=re.M)
    return [f"import of {name!r}: use groundsight.{name}" for name in BARE_IMPORT.findall(python)]


# ------------------------------------------------------------------------------------------------ the tests
def _id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def test_the_pages_exist() -> None:
    assert (ROOT / "README.md").exists()
    assert len(PAGES) > 3, "docs/ holds the pages the README's map links to"


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_relative_links_point_to_existing_files(page: Path) -> None:
    assert broken_links(page) == []


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_shown_commands_are_real_subcommands_and_options(page: Path) -> None:
    assert bad_commands(page.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_benchmarks_run_as_existing_modules(page: Path) -> None:
    assert bad_benchmarks(page.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_python_examples_import_the_groundsight_namespace(page: Path) -> None:
    assert bare_imports(page.read_text(encoding="utf-8")) == []


def test_every_benchmark_script_is_listed() -> None:
    """docs/benchmarks.md names every benchmarks/NAME.py with the command that runs it."""
    listed = set(BENCHMARK_MODULE.findall((ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")))
    scripts = {path.stem for path in (ROOT / "benchmarks").glob("*.py") if path.stem != "__init__"}
    assert scripts - listed == set()


def test_the_architecture_page_draws_the_compiled_graph() -> None:
    """The Mermaid diagram of docs/architecture.md is docs/graph.mmd (which tests/agent/loop/test_graph.py holds
    equal to the compiled graph): regenerate one, paste it into the other."""
    blocks, _ = split_blocks((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"))
    drawn = ["\n".join(lines) for language, lines in blocks if language == "mermaid"]
    assert drawn == [(ROOT / "docs" / "graph.mmd").read_text(encoding="utf-8").rstrip("\n")]


def test_the_readme_shows_what_make_demo_runs() -> None:
    """The command echoed in the README's make demo output is the Makefile's demo recipe."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^demo:.*\n\t(.+)$", makefile, re.M).group(1).replace("$(BIN)", ".venv/bin")
    assert f"$ make demo\n{recipe}\n" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_shows_commands() -> None:
    """The command check has something to check (the parser finds the README's commands)."""
    shown = shown_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    assert any(args.startswith("run ") for args in shown)


BROKEN_PAGE = """# A page

See [the contract](contract-that-is-not-there.md) and [a heading](#no-such-heading) and [ok](#a-page).

```console
$ groundsight run pick_place/red_block_in_blue_bowl --seed 0 --made-up-flag 3
$ groundsight frobnicate scenarios
$ groundsight eval scenarios --seeds 2 --workers 2
```

Or inline: `groundsight kg query 'SELECT' --kgg mine.ttl`, and `python -m benchmarks.no_such_bench` or
`python benchmarks/sim_speed.py`.

```python
import agent
from groundsight.agent.tasks.scenario import load_scenario
```
"""


def test_the_checkers_catch_a_broken_page() -> None:
    page = ROOT / "docs" / "broken.md"
    links = broken_links(page, BROKEN_PAGE)
    assert len(links) == 2 and "contract-that-is-not-there.md" in links[0] and "#no-such-heading" in links[1]
    commands = bad_commands(BROKEN_PAGE)
    assert len(commands) == 3, commands
    assert "--made-up-flag" in commands[0] and "'frobnicate'" in commands[1] and "--kgg" in commands[2]
    assert len(bad_benchmarks(BROKEN_PAGE)) == 2
    assert bare_imports(BROKEN_PAGE) == ["import of 'agent': use groundsight.agent"]


def test_usage_lines_continue_and_alternatives_are_checked() -> None:
    usage = "```console\n$ groundsight run SCENARIO.yaml [--seed N] [--reasoner rules|llm]\n    [--twin] [--nope]\n```"
    assert bad_commands(usage) == [
        "`groundsight run SCENARIO.yaml [--seed N] [--reasoner rules|llm] [--twin] "
        "[--nope]`: groundsight run: no option --nope"
    ]
