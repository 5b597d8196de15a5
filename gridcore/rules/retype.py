"""Telling apart keywords that share a spelling (``分`` for two sections' "points").

Two sections may declare different keyword terminals with a common form.  In
an LALR parser the lexer may see both as possible next tokens (lookaheads are
merged across contexts) and pick the wrong one.  This wrapper around Lark's
contextual lexer retypes such a token to the first terminal the parser can
really take, by trying each on a copy of the parser state.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from lark import Token
from lark.exceptions import UnexpectedInput


def _norm(form: str) -> str:
    return " ".join(form.lower().split())


def alternates(terminals: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """For each keyword terminal (``_NAME``), the other terminals sharing a form with it."""
    forms = {f"_{t}": {_norm(f) for f in fs} for t, fs in terminals.items()}
    out: dict[str, tuple[str, ...]] = {}
    for name, mine in forms.items():
        others = tuple(sorted(o for o, theirs in forms.items() if o != name and mine & theirs))
        if others:
            out[name] = others
    return out


class RetypingLexer:
    """Wraps the contextual lexer of a built Lark parser (see module doc)."""

    def __init__(self, inner: Any, alternates: Mapping[str, tuple[str, ...]],
                 patterns: Mapping[str, str]) -> None:
        self.inner = inner
        self.alternates = alternates
        self.sources = patterns
        self.patterns: dict[str, re.Pattern[str]] = {}  # compiled when first needed

    def pattern(self, name: str) -> re.Pattern[str] | None:
        if name not in self.patterns and name in self.sources:
            self.patterns[name] = re.compile(self.sources[name])
        return self.patterns.get(name)

    def lex(self, lexer_state: Any, parser_state: Any) -> Iterator[Token]:
        for token in self.inner.lex(lexer_state, parser_state):
            alts = self.alternates.get(token.type)
            if alts:
                token = self._choose(token, alts, parser_state)
            yield token

    def _choose(self, token: Token, alts: tuple[str, ...], parser_state: Any) -> Token:
        for name in (token.type, *alts):
            pattern = self.pattern(name)
            if name != token.type and (pattern is None or not pattern.fullmatch(token.value)):
                continue
            candidate = token if name == token.type else Token.new_borrow_pos(name, token.value,
                                                                              token)
            try:
                parser_state.copy().feed_token(candidate)
            except UnexpectedInput:
                continue
            except Exception:  # noqa: BLE001, S112 - a failed trial only means "not this one"
                continue
            return candidate
        return token
