"""Widgets shared by more than one pane."""
