"""A search box that escape leaves: the filter stays, the focus goes back to the list below."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class SearchInput(Input):
    """Enter or escape hands the focus back (the pane decides where), keeping what was typed."""

    BINDINGS = [Binding("escape", "leave", "Back to the list", id="search-leave")]

    class Left(Message):
        """The user is done searching."""

        def __init__(self, search: SearchInput) -> None:
            super().__init__()
            self.search = search

        @property
        def control(self) -> SearchInput:
            return self.search

    def action_leave(self) -> None:
        self.post_message(self.Left(self))
