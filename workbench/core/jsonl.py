"""One JSONL line, bytes to a JSON value, with every way it can be broken named on its line.

`parse_jsonl_line` is the only JSON line parser: `workbench validate`, the Training-pane importer and
the raw-JSON editor all call it, so a line one of them accepts the others accept too. It never
raises on bad input. It is stricter than Python's `json.loads` where OpenAI's reader is:

- `NaN`, `Infinity` and `-Infinity` are not JSON (Python accepts them by default);
- a lone surrogate (`"\\ud800"`) is not Unicode text: it cannot be stored, printed or tokenized;
- a number Python cannot hold as given (an integer over 4,300 digits, `1e400`) is reported, not
  turned into an error about interpreter settings or into infinity;
- nesting deeper than MAX_DEPTH levels is refused before anything recurses over it.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import stat
import sys
from dataclasses import dataclass
from typing import Any

from workbench.core.dataset_rules import ERROR, Problem

BOM = b"\xef\xbb\xbf"
# Deeper than any training example needs; the rules, the store and the exporter recurse this deep.
MAX_DEPTH = 100
# Python refuses to convert longer digit strings to int (sys.get_int_max_str_digits()).
_MAX_INT_DIGITS = getattr(sys, "get_int_max_str_digits", lambda: 4300)() or 4300
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")
# JSON strings and the literals the strict parser refuses, to find the column of the one refused.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|-?Infinity|NaN|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?')


@dataclass(frozen=True, slots=True)
class ParsedLine:
    """A line's JSON value, or the problem that kept it from having one."""

    value: Any  # the parsed value; None when `problem` is set (JSON null also gives None)
    text: str  # the line as text (bytes that are not UTF-8 shown as U+FFFD)
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


class _Refused(ValueError):
    """Raised from inside the decoder for a literal it must not accept."""

    def __init__(self, literal: str, code: str, what: str, why: str) -> None:
        super().__init__(why)
        self.literal, self.code, self.what, self.why = literal, code, what, why


def _refuse_constant(name: str) -> Any:
    raise _Refused(
        name,
        "invalid_json",
        "not valid JSON",
        f"{name} is not a JSON value (write a number or null)",
    )


def _parse_int(digits: str) -> int:
    if len(digits.lstrip("-")) > _MAX_INT_DIGITS:
        raise _Refused(
            digits,
            "invalid_number",
            "number out of range",
            f"a {len(digits.lstrip('-')):,}-digit integer is too large for any field of an example",
        )
    return int(digits)


def _parse_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        shown = text if len(text) <= 24 else text[:20] + "…"
        raise _Refused(
            text,
            "invalid_number",
            "number out of range",
            f"{shown} is beyond what a number can hold",
        )
    return value


_DECODER = json.JSONDecoder(
    parse_constant=_refuse_constant, parse_int=_parse_int, parse_float=_parse_float
)


def _column_of(text: str, literal: str) -> int | None:
    """1-based column of the first `literal` outside any JSON string."""
    for match in _TOKEN.finditer(text):
        if match.group() == literal:
            return match.start() + 1
    return None


def parse_jsonl_line(raw: bytes, line: int) -> ParsedLine:
    """Parse one line's bytes (without its "\\n"); a BOM is accepted on line 1, "\\r\\n" anywhere."""
    if line == 1 and raw.startswith(BOM):
        raw = raw[len(BOM) :]
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        shown = raw.decode("utf-8", errors="replace")
        return _broken(
            shown,
            line,
            "invalid_encoding",
            f"not valid UTF-8 at byte {exc.start + 1} of the line (0x{raw[exc.start]:02x}): "
            "save the file as UTF-8",
        )
    if text.startswith("\ufeff"):
        return _broken(
            text, line, "invalid_json", "a byte-order mark (BOM) starts this line: remove it"
        )
    try:
        value = _DECODER.decode(text)
    except _Refused as exc:
        column = _column_of(text, exc.literal)
        where = f" at column {column}" if column else ""
        return _broken(text, line, exc.code, f"{exc.what}{where}: {exc.why}")
    except json.JSONDecodeError as exc:
        return _broken(
            text, line, "invalid_json", f"not valid JSON at column {exc.colno}: {exc.msg}"
        )
    except RecursionError:
        return _broken(text, line, "invalid_json", _too_deep())
    except ValueError as exc:  # anything else the decoder refuses, in its own words
        return _broken(text, line, "invalid_json", f"not valid JSON: {exc}")
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        return _broken(text, line, "invalid_json", _too_deep())
    if _SURROGATE_ESCAPE.search(text):
        where = _lone_surrogate(value)
        if where is not None:
            return _broken(
                text,
                line,
                "invalid_unicode",
                f"{where} holds a lone surrogate (a \\ud800-\\udfff escape without its pair): "
                "not Unicode text",
            )
    return ParsedLine(value, text)


def _broken(text: str, line: int, code: str, message: str) -> ParsedLine:
    return ParsedLine(None, text, Problem(line, code, message, ERROR))


def _too_deep() -> str:
    return f"JSON nested too deeply (more than {MAX_DEPTH} levels of lists and objects)"


def _depth(value: Any) -> int:
    """How many lists and objects deep `value` goes (iterative: no recursion to exhaust)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _lone_surrogate(value: Any) -> str | None:
    """Where the first string (key or value) with a lone surrogate is, as `messages[0].role`."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return f"`{path}`" if path else "the line"
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):
                shown = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", key)
                if shown != key:
                    return f"the key `{path + '.' if path else ''}{shown}`"
                stack.append((child, f"{path}.{key}" if path else key))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]") for i, child in reversed(list(enumerate(item))))
    return None


_KINDS = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class NotARegularFile(OSError):
    """The path is a pipe, a device or a socket: opening or reading it could block for ever."""

    def __str__(self) -> str:
        return f"{self.filename}: {self.strerror}"


def check_regular_file(path: str | os.PathLike) -> os.stat_result:
    """The file's stat, or an OSError saying what it is instead of a plain file.

    Call it before opening: opening a FIFO waits for a writer, reading a device never ends."""
    info = os.stat(path)
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory", os.fspath(path))
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "something else")
        raise NotARegularFile(
            errno.EINVAL, f"{kind}, not a regular file: give the path of a file", os.fspath(path)
        )
    return info
