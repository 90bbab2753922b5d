"""How ``deepaas-run``'s command line reads: one line per mistake, ``--help`` by concern.

oslo.config parses the flags; this module only rewords what it prints. A bad value is
``deepaas-run: --train-workers: invalid value '0' (an integer, at least 1)``, in the
dash spelling; an unknown option is one line and a hint (the closest option, if any),
not the whole usage; ``--help`` lists the options under their concern, DEEPaaS's
oslo.log flags apart, and the ones accepted only to be ignored apart again.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from oslo_config import cfg, types

USAGE = "%(prog)s [options]"

Section = tuple[str, Sequence[cfg.Opt]]


@contextlib.contextmanager
def worded(prog: str, sections: Sequence[Section]) -> Iterator[None]:
    """Around the parse: its help regrouped (``sections``), its errors in one line."""
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            yield
    except SystemExit as stop:
        if stop.code in (0, None):  # --help, --version
            sys.stdout.write(regroup(out.getvalue(), sections))
        else:
            opts = [opt for _, section in sections for opt in section]
            for line in explain(err.getvalue(), prog, opts):
                print(f"{prog}: {line}", file=sys.stderr)
        raise
    sys.stdout.write(out.getvalue())
    sys.stderr.write(err.getvalue())


def explain(printed: str, prog: str, opts: Sequence[cfg.Opt]) -> list[str]:
    """What argparse or oslo.config printed for a mistake, as one line (and a hint)."""
    invalid = re.search(r"argument --(\w+): Invalid .* value: (.*)", printed)
    if invalid is not None:
        dest, value = invalid.groups()
        opt = next((opt for opt in opts if opt.dest == dest), None)
        if opt is not None:
            return [f"--{opt.name}: invalid value '{value}' ({describe(opt.type)})"]
    errors = re.findall(rf"^{re.escape(prog)}: error: (.*)$", printed, re.MULTILINE)
    if not errors:
        return [line for line in printed.splitlines() if line.strip()] or ["invalid options"]
    message: str = errors[-1]
    if message.startswith("unrecognized arguments: "):
        unknown = [word for word in message.split()[2:] if word.startswith("-")]
        return [
            f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}",
            _hint(unknown[0] if unknown else "", prog, opts),
        ]
    argument = re.match(r"argument (\S+): (.*)", message)
    if argument is not None:
        names, reason = argument.groups()
        return [f"{names.split('/')[0]}: {reason}"]
    return [message]


def _hint(unknown: str, prog: str, opts: Sequence[cfg.Opt]) -> str:
    known = ["--help", "--version", "--config-file", "--config-dir"]
    for opt in opts:
        known.append(f"--{opt.name}")
        if isinstance(opt, cfg.BoolOpt):
            known.append(f"--no{opt.name}")
    close = difflib.get_close_matches(unknown.split("=")[0], known, n=1)
    listed = f"{prog} --help lists every option"
    return f"did you mean {close[0]}? ({listed})" if close else listed


def describe(kind: types.ConfigType) -> str:
    """What a value of an option's type must be, in words."""
    if isinstance(kind, types.Number):
        what = "an integer" if isinstance(kind, types.Integer) else "a number"
        low, high = kind.min, kind.max
        if low is not None and high is not None:
            return f"{what} from {low} to {high}"
        if low is not None:
            return f"{what}, at least {low}"
        if high is not None:
            return f"{what}, at most {high}"
        return what
    if isinstance(kind, types.String) and kind.choices:
        return "one of: " + ", ".join(kind.choices)
    if isinstance(kind, types.HostAddress):
        return "an IP address or a host name"
    return kind.type_name


@dataclass
class _Entry:
    """One option in argparse's help: its first spelling and its lines."""

    key: str
    lines: list[str]


def regroup(text: str, sections: Sequence[Section]) -> str:
    """argparse's help with the options under the titles of ``sections``, in their order.

    An option's ``--no`` spelling follows it. What no section lists (``--help``,
    ``--config-file``...) stays under ``options``, first.
    """
    usage, found, listed = text.partition("\n\noptions:\n")
    if not found:
        return text
    entries = _entries(listed)
    by_key = {entry.key: entry for entry in entries}
    placed: set[str] = set()
    blocks = []
    for title, opts in sections:
        lines = []
        for opt in opts:
            for key in (f"--{opt.name}", f"--no{opt.name}"):
                if key in by_key and key not in placed:
                    placed.add(key)
                    lines += by_key[key].lines
        if lines:
            blocks.append(f"{title}:\n" + "\n".join(lines))
    general = [line for entry in entries if entry.key not in placed for line in entry.lines]
    if general:
        blocks.insert(0, "options:\n" + "\n".join(general))
    return "\n\n".join([usage, *blocks]) + "\n"


def _entries(listed: str) -> list[_Entry]:
    entries: list[_Entry] = []
    for line in listed.rstrip("\n").splitlines():
        if line.startswith("  -"):
            entries.append(_Entry(line.split()[0].rstrip(","), [line]))
        elif entries:
            entries[-1].lines.append(line)
    return entries
