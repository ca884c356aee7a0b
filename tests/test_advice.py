"""Advice as data: library errors carry remedies, only the CLI (and the app) word them.

A library error says what to do as an ``errors.Remedy``; ``str(exc)`` phrases it without
command-line flags (for Python users and the desktop app), ``cli.advice`` with them. The
scan at the end fails when a library module spells a ``--flag`` in an error it raises.
"""

from __future__ import annotations

import ast
import pickle
import re
from pathlib import Path

import pytest

from posturecam import errors
from posturecam.cli import advice
from posturecam.errors import Given, PosturecamError, ProfileError, Remedy

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "posturecam"
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
# Not library code: these layers talk to the user in their own words.
EDGES = ("cli", "app")
# Library modules that still spell flags in their errors: each owner converts theirs to
# remedies (see the restructure notes, advice.md) and removes the module here. The list only
# shrinks: a module not on it that spells a flag fails, and so does one on it that no longer
# does (take it off).
STILL_SPELLING_FLAGS: set[str] = set()


# ---------------------------------------------------------------------- phrasing


def test_every_kind_has_cli_words_with_the_same_values():
    assert set(advice.CLI_REMEDIES) == set(errors.REMEDIES)
    assert set(advice.CLI_GIVEN) == set(errors.GIVEN)
    for kind, plain in errors.PHRASES.items():
        assert errors.fields_of(advice.CLI_PHRASES[kind]) == errors.fields_of(plain), kind


@pytest.mark.parametrize("kind", sorted(errors.PHRASES))
def test_plain_words_name_no_flag_and_every_kind_renders(kind):
    values = {name: f"<{name}>" for name in errors.fields_of(errors.PHRASES[kind])}
    phrase = (Remedy if kind in errors.REMEDIES else Given)(kind, **values)
    plain = phrase.phrase(errors.PHRASES)
    assert not FLAG.search(plain), plain
    cli_words = phrase.phrase(advice.CLI_PHRASES)
    assert all(v in plain and v in cli_words for v in values.values())


# Today's CLI messages, and the parts that say them word for word: one for each kind, for the
# owners converting their errors (a template, and the proof that nothing the CLI prints changes).
TODAY = [
    (
        "x is a file, not a run folder; rescore expects the folder written by `posturecam "
        "replay SOURCE --out DIR`, so pass that folder.",
        (
            "x is a file, not a run folder; rescore expects the folder written by ",
            Given("replay_folder"),
            ", so pass that folder.",
        ),
    ),
    (
        "no such run folder: r; give a folder written by `replay --out`",
        ("no such run folder: r; give a folder written by ", Given("replay_out")),
    ),
    (
        "--out o is a file, not a folder; choose a folder name.",
        (Given("out_dir", path="o"), " is a file, not a folder; choose a folder name."),
    ),
    (
        "cannot create --out folder o: Permission denied",
        ("cannot create ", Given("out_folder", path="o"), ": Permission denied"),
    ),
    (
        "cannot write to --out o (No space left on device); free some disk space or choose "
        "another --out folder.",
        (
            "cannot write to ",
            Given("out_dir", path="o"),
            " (No space left on device); free some disk space or ",
            Remedy("choose_out_folder"),
            ".",
        ),
    ),
    (
        "cannot write o (Permission denied); choose a folder you can write to with --out",
        ("cannot write o (Permission denied); ", Remedy("writable_out_folder")),
    ),
    (
        "cannot move the new results into place in o (Disk full); the folder holds no complete "
        "run now: fix the folder, then run again with --force.",
        (
            "cannot move the new results into place in o (Disk full); the folder holds no "
            "complete run now: fix the folder, then ",
            Remedy("rerun_forced"),
            ".",
        ),
    ),
    (
        "o already holds a recording (3 files); choose another --out folder or pass --force to "
        "replace it.",
        (
            "o already holds a recording (3 files); ",
            Remedy("choose_out_folder"),
            " or ",
            Remedy("force_replace"),
            ".",
        ),
    ),
    (
        "folder f has no manifest.csv, so frame times are unknown: add manifest.csv (header "
        "'file,t_s', one row per image) or pass --fps N for frames taken at a steady rate (or "
        "--stills for unrelated photos)",
        (
            "folder f has no manifest.csv, so frame times are unknown: add manifest.csv (header "
            "'file,t_s', one row per image) or ",
            Remedy("give_fps"),
            " for frames taken at a steady rate (or ",
            Given("stills_option"),
            " for unrelated photos)",
        ),
    ),
    (
        "--fps must be a positive number of frames per second, got 0",
        (Given("fps_option"), " must be a positive number of frames per second, got 0"),
    ),
    (
        "--workers must be a whole number of at least 1, got 0",
        (Given("workers_option"), " must be a whole number of at least 1, got 0"),
    ),
    (
        "cannot open camera 1: close other camera apps, check permissions, or try another "
        "--source index",
        (
            "cannot open camera 1: close other camera apps, check permissions, or ",
            Remedy("other_camera_index"),
        ),
    ),
    (
        "the camera stopped; reconnect it or try another --source",
        ("the camera stopped; reconnect it or ", Remedy("other_camera")),
    ),
    (
        "no profile was saved; use a longer video or the camera (--source 0), or calibrate "
        "first with `posturecam calibrate`",
        ("no profile was saved; ", Remedy("longer_video_or_camera")),
    ),
    (
        "cannot open a preview window (no display); run without --preview",
        ("cannot open a preview window (no display); ", Remedy("no_preview")),
    ),
    (
        "the Dask executor needs --scheduler ADDRESS (e.g. tcp://10.0.0.5:8786), or "
        "--scheduler local to start a cluster of --workers processes here",
        ("the Dask executor needs ", Given("scheduler_choice", local="local")),
    ),
    (
        "cannot connect to the Dask scheduler at s (refused); check --scheduler, or start one",
        (
            "cannot connect to the Dask scheduler at s (refused); ",
            Remedy("check_scheduler"),
            ", or start one",
        ),
    ),
    (
        "r has no summary.json; run `posturecam replay SOURCE --out r` first, then make the "
        "report from that folder.",
        (
            "r has no summary.json; ",
            Remedy("replay_first", out="r"),
            ", then make the report from that folder.",
        ),
    ),
    (
        "cannot write the report to d (Permission denied); choose another --html path.",
        ("cannot write the report to d (Permission denied); ", Remedy("other_html"), "."),
    ),
    (
        "The model file given with --model, m, does not exist.\n--model was not given.",
        (
            "The model file given with ",
            Given("model_option"),
            ", m, does not exist.\n",
            Given("model_option"),
            " was not given.",
        ),
    ),
    (
        "no profile at p; create it with `posturecam calibrate --profile p` or pass the path of "
        "a profile file.",
        ("no profile at p; ", Remedy("create_profile", name="p"), "."),
    ),
    (
        "p holds a side-view profile. Choose another --profile name (one per setup).",
        ("p holds a side-view profile. ", Remedy("other_profile_name"), " (one per setup)."),
    ),
    (
        "p is damaged; recalibrate with `posturecam calibrate --profile NAME`.",
        ("p is damaged; ", Remedy("recalibrate"), "."),
    ),
]


@pytest.mark.parametrize(("today", "parts"), TODAY, ids=[t[:30] for t, _ in TODAY])
def test_parts_say_todays_cli_message_word_for_word(today, parts):
    exc = PosturecamError(*parts)
    assert advice.render(exc) == today
    assert not FLAG.search(str(exc)), str(exc)


def test_every_kind_has_a_worked_example():
    used = {p.kind for _, parts in TODAY for p in parts if isinstance(p, errors.Phrase)}
    assert used | {"supply_model"} == set(errors.PHRASES)


def test_the_model_remedy_says_the_model_modules_text():
    from posturecam.frames import model

    words = Remedy("supply_model", env=model.ENV_MODEL, cache=model.cache_dir())
    if hasattr(model, "remedy"):  # until model.py carries the remedy as data
        assert words.phrase(advice.CLI_PHRASES) == model.remedy()


def test_unknown_kinds_and_missing_values_are_refused():
    with pytest.raises(ValueError, match="unknown Remedy kind"):
        Remedy("reboot")
    with pytest.raises(ValueError, match="unknown Given kind"):
        Given("recalibrate")
    with pytest.raises(ValueError, match="needs"):
        Remedy("create_profile")


def test_error_reads_plain_for_python_and_with_flags_for_the_cli():
    exc = ProfileError("no profile at x.json; ", Remedy("create_profile", name="laptop"), ".")
    assert str(exc) == (
        "no profile at x.json; calibrate a profile named laptop first, or give the path of a "
        "profile file."
    )
    assert advice.render(exc) == (
        "no profile at x.json; create it with `posturecam calibrate --profile laptop` or pass "
        "the path of a profile file."
    )
    assert exc.remedies == (Remedy("create_profile", name="laptop"),)


def test_a_remedy_that_starts_a_sentence_is_capitalised():
    exc = PosturecamError("It is side view. ", Remedy("other_profile_name"), ".")
    assert str(exc) == "It is side view. Choose another profile name."
    assert advice.render(exc) == "It is side view. Choose another --profile name."
    assert str(PosturecamError(Remedy("recalibrate"))) == "Recalibrate"
    assert str(PosturecamError("see a.b ", Remedy("recalibrate"))) == "see a.b recalibrate"


def test_nested_errors_are_phrased_by_the_same_words():
    inner = ProfileError("damaged; ", Remedy("recalibrate"), ".")
    outer = ProfileError("not overwritten: ", inner, " Or ", Remedy("other_profile_name"))
    assert str(outer) == "not overwritten: damaged; recalibrate. Or choose another profile name"
    assert "`posturecam calibrate --profile NAME`" in advice.render(outer)
    assert outer.remedies == (Remedy("recalibrate"), Remedy("other_profile_name"))


def test_a_plain_message_is_unchanged():
    exc = errors.ModelError("no model")
    assert str(exc) == advice.render(exc) == "no model" and exc.remedies == ()


def test_errors_survive_pickling_with_their_remedies():
    """Batch workers send errors back through pickle."""
    exc = ProfileError("bad; ", Remedy("create_profile", name="x"), ".")
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is ProfileError and back.remedies == exc.remedies
    assert advice.render(back) == advice.render(exc)


def test_the_cli_prints_the_flagged_words(capsys, monkeypatch):
    from posturecam import cli

    def fail(_args):
        raise ProfileError("no profile at p; ", Remedy("create_profile", name="p"), ".")

    monkeypatch.setitem(cli.COMMANDS, "stretches", fail)
    assert cli.main(["stretches"]) == 2
    assert capsys.readouterr().err == (
        "posturecam: error: no profile at p; create it with `posturecam calibrate --profile p` "
        "or pass the path of a profile file.\n"
    )


# ---------------------------------------------------------------------- no flags in library errors


def _is_error_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
    return name.endswith(("Error", "Unavailable", "Exception"))


def _error_parts(tree: ast.Module) -> list[ast.AST]:
    """What is raised, and every error object built (``return OutputError(...)`` too)."""
    parts: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            parts.append(node.exc)
        elif _is_error_call(node):
            parts.append(node)
    return parts


def _module_names(tree: ast.Module) -> dict[str, ast.AST]:
    """Module-level functions and constants, to follow the names an error uses."""
    named: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            named[node.name] = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    named[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            named[node.target.id] = node.value
    return named


def flags_in_errors(source: str) -> set[str]:
    """Every ``--flag`` in a string that reaches an error, following module-level names."""
    tree = ast.parse(source)
    named = _module_names(tree)
    todo, seen, found = _error_parts(tree), set(), set()
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for sub in ast.walk(node):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                found.update(FLAG.findall(sub.value))
            elif isinstance(sub, ast.Name) and sub.id in named:
                todo.append(named[sub.id])
    return found


def library_modules() -> list[Path]:
    return sorted(
        p
        for p in PACKAGE.rglob("*.py")
        if p.relative_to(PACKAGE).parts[0] not in EDGES and "__pycache__" not in p.parts
    )


def offenders() -> dict[str, set[str]]:
    out = {}
    for path in library_modules():
        flags = flags_in_errors(path.read_text(encoding="utf-8"))
        if flags:
            out[path.relative_to(ROOT).as_posix()] = flags
    return out


def test_the_scan_finds_flags_raised_directly_through_constants_and_helpers():
    source = (
        "HINT = 'pass --fps N'\n"
        "def _fix():\n    return 'or --force'\n"
        "def f():\n    raise SourceError(f'no manifest; {HINT}')\n"
        "def g():\n    return OutputError('exists; ' + _fix())\n"
        "def h():\n    print('--verbose is fine in a print')\n"
    )
    assert flags_in_errors(source) == {"--fps", "--force"}


def test_no_new_library_module_spells_a_cli_flag_in_an_error():
    found = offenders()
    new = {m: sorted(f) for m, f in found.items() if m not in STILL_SPELLING_FLAGS}
    assert not new, (
        "library errors must carry a Remedy (posturecam.errors), and cli/advice.py words it "
        f"with flags; these modules spell flags in errors: {new}"
    )


def test_the_allow_list_only_shrinks():
    """A listed module that no longer spells a flag must come off (one renamed away is moot)."""
    found = offenders()
    stale = sorted(m for m in STILL_SPELLING_FLAGS if (ROOT / m).exists() and m not in found)
    assert not stale, f"these modules no longer spell flags: take them off the list: {stale}"
