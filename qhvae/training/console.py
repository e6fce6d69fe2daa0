"""Notes for the person at the terminal: training and studies print through a ``rich`` console, or stay quiet.

Every function of :mod:`qhvae.training` and :mod:`qhvae.experiments` that reports progress takes
a ``console`` (a :class:`rich.console.Console`) or ``None``: library callers and tests pass
``None`` and see nothing. This module imports neither Keras nor TensorFlow.

Example:
    >>> say(None, "nothing is printed")
    >>> from rich.console import Console
    >>> say(Console(width=40, color_system=None), "[bold]done[/bold]")
    done
"""

from __future__ import annotations

__all__ = ["say"]


def say(console, message: str) -> None:
    """Print ``message`` (``rich`` markup) on ``console``; with ``console=None`` nothing is printed."""
    if console is not None:
        console.print(message)
