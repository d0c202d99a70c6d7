"""workbench: decide, on your own data, whether to prompt-engineer or fine-tune.

The package root imports nothing heavy: `workbench --version` and the subcommands must start fast.
"""

__version__ = "0.1.0"
