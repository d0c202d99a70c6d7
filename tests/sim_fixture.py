"""The `sim` fixture: a real `workbench sim` HTTP server on a free port (filled in by the simulator work)."""
