"""expr-lang's lexer: source text to tokens (numbers, strings with Go escapes, names, operators, brackets).

Like ``expr/parser/lexer``; a malformed token raises :class:`~workflows.engine.lang.errors.ExpressionError`
naming the source and the position.
"""

from __future__ import annotations

from typing import Callable

from ..errors import ExpressionError


_EOF, _NUM, _STR, _IDENT, _OP, _BRACKET = "EOF", "Number", "String", "Identifier", "Operator", "Bracket"
_KEYWORD_OPERATORS = frozenset(("in", "or", "and", "matches", "contains", "startsWith", "endsWith", "let", "if", "else", "not"))


class _Token:
    __slots__ = ("kind", "pos", "value")

    def __init__(self, kind: str, value: str, pos: int) -> None:
        self.kind = kind
        self.value = value
        self.pos = pos

    def __repr__(self) -> str:
        return f"{self.kind}({self.value!r})" if self.kind != _EOF else "EOF"


def _is_alnum(char: str) -> bool:
    return char == "_" or char == "$" or char.isalpha() or char.isdigit()


_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"', "`": "`", "?": "?"}


def _unescape(body: str) -> str:
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    length = len(body)
    while i < length:
        char = body[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        if i + 1 >= length:
            raise ValueError("unable to unescape string, found '\\' as last character")
        code = body[i + 1]
        i += 2
        if code in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[code])
        elif code in "xXuU":
            if code == "u" and i < length and body[i] == "{":
                end = body.find("}", i)
                if end < 0:
                    raise ValueError("unable to unescape string")
                digits = body[i + 1 : end]
                i = end + 1
            else:
                size = {"x": 2, "X": 2, "u": 4, "U": 8}[code]
                digits = body[i : i + size]
                i += size
                if len(digits) != size:
                    raise ValueError("unable to unescape string")
            try:
                out.append(chr(int(digits, 16)))
            except ValueError as error:
                raise ValueError("unable to unescape string") from error
        elif code in "01234567":
            digits = body[i - 1 : i + 2]
            i += 2
            if len(digits) != 3 or any(d not in "01234567" for d in digits):
                raise ValueError("unable to unescape string")
            out.append(chr(int(digits, 8)))
        else:
            raise ValueError("unable to unescape string")
    return "".join(out)


def _lex(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    length = len(source)

    def fail(message: str, at: int) -> ExpressionError:
        return ExpressionError(f"{message} (at position {at + 1}) in expression {source!r}", tag=source)

    while i < length:
        char = source[i]
        if char.isspace():
            i += 1
            continue
        start = i
        if char in "'\"":
            j = i + 1
            while j < length and source[j] != char:
                j += 2 if source[j] == "\\" else 1
            if j >= length:
                raise fail("literal not terminated", start)
            try:
                tokens.append(_Token(_STR, _unescape(source[i + 1 : j]), start))
            except ValueError as error:
                raise fail(str(error), start) from None
            i = j + 1
        elif char == "`":
            end = source.find("`", i + 1)
            if end < 0:
                raise fail("literal not terminated", start)
            tokens.append(_Token(_STR, source[i + 1 : end], start))
            i = end + 1
        elif char.isdigit() or (char == "." and i + 1 < length and source[i + 1].isdigit()):
            i = _scan_number(source, i, fail)
            tokens.append(_Token(_NUM, source[start:i], start))
        elif char == "?":
            i += 2 if i + 1 < length and source[i + 1] in ".?" else 1
            tokens.append(_Token(_OP, source[start:i], start))
        elif char == "/":
            if source.startswith("//", i):
                end = source.find("\n", i)
                i = length if end < 0 else end + 1
            elif source.startswith("/*", i):
                end = source.find("*/", i + 2)
                if end < 0:
                    raise fail("unclosed comment", start)
                i = end + 2
            else:
                tokens.append(_Token(_OP, "/", start))
                i += 1
        elif char == "#":
            tokens.append(_Token(_OP, "#", start))
            i += 1
            j = i
            while j < length and _is_alnum(source[j]):
                j += 1
            if j > i:
                tokens.append(_Token(_IDENT, source[i:j], i))
                i = j
        elif char in "|:":
            i += 2 if i + 1 < length and source[i + 1] == char else 1
            tokens.append(_Token(_OP, source[start:i], start))
        elif char in "([{)]}":
            tokens.append(_Token(_BRACKET, char, start))
            i += 1
        elif char in ",;%+-^":
            tokens.append(_Token(_OP, char, start))
            i += 1
        elif char in "&!=*<>":
            i += 2 if i + 1 < length and source[i + 1] in "&=*" else 1
            tokens.append(_Token(_OP, source[start:i], start))
        elif char == ".":
            i += 2 if i + 1 < length and source[i + 1] == "." else 1
            tokens.append(_Token(_OP, source[start:i], start))
        elif _is_alnum(char):
            j = i
            while j < length and _is_alnum(source[j]):
                j += 1
            word = source[i:j]
            tokens.append(_Token(_OP if word in _KEYWORD_OPERATORS else _IDENT, word, start))
            i = j
        else:
            raise fail(f"unrecognized character: {char!r}", start)
    tokens.append(_Token(_EOF, "", length))
    return tokens


def _scan_number(source: str, i: int, fail: Callable[[str, int], ExpressionError]) -> int:
    start = i
    length = len(source)
    digits = "0123456789_"
    if source[i] == "0" and i + 1 < length and source[i + 1] in "xXoObB":
        digits = {"x": "0123456789abcdefABCDEF_", "o": "01234567_", "b": "01_"}[source[i + 1].lower()]
        i += 2
    while i < length and source[i] in digits:
        i += 1
    end = i
    if i < length and source[i] == ".":
        if i + 1 < length and source[i + 1] == ".":
            return end  # a range operator: 1..3
        i += 1
        while i < length and source[i] in digits:
            i += 1
    if i < length and source[i] in "eE" and digits == "0123456789_":
        i += 1
        if i < length and source[i] in "+-":
            i += 1
        while i < length and source[i] in digits:
            i += 1
    if i < length and _is_alnum(source[i]):
        raise fail(f"bad number syntax: {source[start:i + 1]!r}", start)
    return i
