"""TensorFlow's start-up noise, handled in one place.

TensorFlow prints several lines of oneDNN/CUDA notices when it is imported. Two kinds
come out: C++ log lines, which ``TF_CPP_MIN_LOG_LEVEL`` filters once it is set before
the import, and notices written to the stderr file descriptor before logging starts,
which no log level hides. :func:`quiet_tensorflow_logs` sets the level (without
overriding one the user chose); :func:`import_tensorflow_quietly` also captures the
early notices and shows them only if the import fails.

Nothing here imports TensorFlow at module level, so every layer may use it.

Example:
    >>> import os
    >>> quiet_tensorflow_logs()
    >>> os.environ["TF_CPP_MIN_LOG_LEVEL"] in ("0", "1", "2", "3")
    True
"""

from __future__ import annotations

import os
import sys
import tempfile

__all__ = ["TF_LOG_LEVEL", "quiet_tensorflow_logs", "import_tensorflow_quietly"]

#: The level qhvae asks for: 2 hides INFO and WARNING lines, errors still show.
TF_LOG_LEVEL = 2


def quiet_tensorflow_logs(level: int = TF_LOG_LEVEL) -> None:
    """Set ``TF_CPP_MIN_LOG_LEVEL`` to ``level`` unless the user has set it already.

    It only acts before TensorFlow is imported (TensorFlow reads it once).

    Args:
        level: 0 shows everything, 1 hides INFO, 2 also WARNING, 3 also ERROR (the command
            line uses 3: its own messages say what failed).

    Example:
        >>> quiet_tensorflow_logs(2)
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", str(int(level)))


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and Keras with the C++ notices they print before logging starts hidden.

    TensorFlow writes oneDNN/CUDA notices to the stderr file descriptor before its log
    level applies (``TF_CPP_MIN_LOG_LEVEL`` cannot silence them); they are captured and
    shown only if the import fails. A no-op once TensorFlow is imported.
    """
    if "tensorflow" in sys.modules:
        return
    quiet_tensorflow_logs()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr descriptor (embedded interpreters): import as is
        import keras  # noqa: F401
        return
    with tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        os.dup2(captured.fileno(), 2)
        try:
            import keras  # noqa: F401
            import tensorflow  # noqa: F401
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
