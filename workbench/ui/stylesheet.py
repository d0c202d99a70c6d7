"""Textual's Stylesheet, without parsing the same CSS again when nothing changed.

`App.refresh_css()` sets the CSS variables (which empties the parse cache, even when they are the
same) and re-parses every source from scratch. Textual calls it when the first screen is set up,
right after that screen's CSS was parsed, so before the first frame every sheet was parsed three
times (~40 ms). This sheet keeps its cache while the variables are unchanged, and skips a re-parse
whose variables and sources are those of the last parse. A theme change still re-parses everything.
"""

from __future__ import annotations

from typing import Any

from textual.css.stylesheet import Stylesheet


class WorkbenchStylesheet(Stylesheet):
    _parsed_from: Any = None  # the variables and sources of the last parse

    def _inputs(self) -> Any:
        return (dict(self._variables), dict(self.source))

    def set_variables(self, variables: dict[str, str]) -> None:
        if variables != self._variables:
            super().set_variables(variables)

    def parse(self) -> None:
        super().parse()
        self._parsed_from = self._inputs()

    def reparse(self) -> None:
        if self._parsed_from is not None and self._parsed_from == self._inputs():
            return  # the rules would come out the same
        super().reparse()
        self._parsed_from = self._inputs()
