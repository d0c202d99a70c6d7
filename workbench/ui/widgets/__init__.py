"""Widgets and dialogs shared by several panes."""
