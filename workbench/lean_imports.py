"""Third-party packages imported without the optional extras they would drag in.

sqlite-utils imports pandas and numpy whenever they are installed, only to convert their values on
insert (we never pass any). Where they are installed (the ML stack of `workbench local` brings
them), that is 1-2 s on every start of the app, the CLI and the simulator. `workbench.store` and
`workbench.sim.state` import sqlite-utils through here first, so it sees them missing; a later
`import pandas` elsewhere is unaffected.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType


def import_without(module: str, *absent: str) -> ModuleType:
    """Import `module` as if the packages `absent` were not installed (if not imported yet)."""
    if module in sys.modules:
        return sys.modules[module]
    hidden = [name for name in absent if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` raise
    try:
        return importlib.import_module(module)
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def sqlite_utils() -> ModuleType:
    """sqlite-utils, without pandas and numpy."""
    return import_without("sqlite_utils", "pandas", "numpy")
