"""The dataset list: the Training pane's sidebar, one option per dataset with its counts."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList


class DatasetList(OptionList):
    """The datasets, with row and problem counts. Highlighting one shows it."""

    BINDINGS = [
        # not in the footer (80 columns keep the pane's keys visible); in the palette
        Binding(
            "r",
            "rename",
            "Rename dataset",
            show=False,
            id="training-rename-dataset",
            tooltip="Rename the highlighted dataset",
        ),
        Binding(
            "d",
            "delete",
            "Delete dataset",
            show=False,
            id="training-delete-dataset",
            tooltip="Delete the highlighted dataset and its rows, after confirming",
        ),
    ]

    class RenameRequested(Message):
        pass

    class DeleteRequested(Message):
        pass

    def action_rename(self) -> None:
        self.post_message(self.RenameRequested())

    def action_delete(self) -> None:
        self.post_message(self.DeleteRequested())
