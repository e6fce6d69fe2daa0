"""What keeps a run directory safe: one process at a time, a checked output folder, prompt interrupts.

- :class:`RunLock`: an exclusive ``fcntl.flock`` on the run directory's lock file, held
  while a process trains the run. The operating system drops the lock when the process
  ends, however it ends (even SIGKILL), so a lock file left behind never blocks anyone; a
  second process is refused with the first one's pid.
- :func:`check_run_dir`: refuse an output folder that cannot be written before any data,
  model or TensorFlow is loaded.
- :class:`InterruptWatch`: while a run trains, Ctrl-C (SIGINT) and SIGTERM set an event
  at once, through the signal wakeup file descriptor. Python runs signal handlers in the
  main thread only, and during ``model.fit`` the main thread waits inside TensorFlow; the
  negative phase (which runs in a TensorFlow thread) polls the event, so a sampler that
  hangs cannot keep a run from stopping: the step fails, and the training loop turns that
  into a ``KeyboardInterrupt`` in the main thread.

This module imports neither Keras nor TensorFlow: the command line uses it to check
options in a fraction of a second.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import os
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from .config import RunError

# A platform check rather than try/except ImportError, so that type checkers see one binding.
if sys.platform == "win32":  # pragma: no cover (Windows): no lock, as before
    fcntl = None
else:
    import fcntl

__all__ = ["LOCK_FILE", "RunLock", "check_run_dir", "check_unlocked", "InterruptWatch", "lock_holder",
           "sigterm_as_interrupt"]

#: The lock file in a run directory (its content, the holder's pid, is for messages only).
LOCK_FILE = ".qhvae.lock"


def lock_holder(run_dir: str | os.PathLike) -> str | None:
    """What the run's lock file says about the process holding it (``None`` when unlocked).

    Example:
        >>> import tempfile
        >>> lock_holder(tempfile.mkdtemp()) is None
        True
    """
    path = Path(run_dir) / LOCK_FILE
    if fcntl is None or not path.exists():
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return path.read_text().strip() or "another process"
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _in_use(run_dir: Path, holder: str) -> RunError:
    return RunError(f"{run_dir} is in use by another qhvae process ({holder}); two processes must not write one "
                    "run: wait for it to finish or stop it (Ctrl-C keeps its checkpoint), then resume")


def check_unlocked(run_dir: str | os.PathLike) -> None:
    """Refuse at once a run that another process is training (what :meth:`RunLock.acquire` would refuse later).

    Raises:
        RunError: naming the run and the other process.
    """
    holder = lock_holder(run_dir)
    if holder is not None:
        raise _in_use(Path(run_dir), holder)


class RunLock:
    """An exclusive lock on a run directory for as long as one process trains it.

    Use it as a context manager (or :meth:`acquire` / :meth:`release`). The lock is an
    ``flock`` on ``RUN/.qhvae.lock``: released by :meth:`release` or, whatever happens, by
    the operating system when the process ends, so a lock file left by a killed process is
    no obstacle (it is reused, never deleted, which would race another process).

    Args:
        run_dir: the run directory (created if missing).

    Raises:
        RunError: (on :meth:`acquire`) another process holds the run.

    Example:
        >>> import tempfile
        >>> with RunLock(tempfile.mkdtemp()) as lock:
        ...     lock.held
        True
    """

    def __init__(self, run_dir: str | os.PathLike):
        self.run_dir = Path(run_dir)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> RunLock:
        if self._fd is not None or fcntl is None:
            return self
        self.run_dir.mkdir(parents=True, exist_ok=True)
        path = self.run_dir / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown pid"
            os.close(fd)
            raise _in_use(self.run_dir, holder) from None
        except OSError:
            os.close(fd)
            raise
        stamp = datetime.datetime.now().isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, since {stamp}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
        os.close(fd)  # closing the descriptor releases the flock

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def check_run_dir(path: str | os.PathLike, flag: str = "--out") -> Path:
    """Refuse a run directory that cannot be created or written, before any work is done.

    The nearest existing folder on the way to ``path`` must be a folder in which a file can
    be created (tried, then removed: permissions alone say nothing for root or for a
    read-only mount).

    Args:
        path: the run directory (it need not exist).
        flag: the option that named it, for the message.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        RunError: naming ``path``, what is in the way and how to fix it.

    Example:
        >>> check_run_dir("/proc/qhvae-run")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        qhvae.exceptions.RunError: cannot write the run directory /proc/qhvae-run: ...
    """
    path = Path(path)
    target = Path(os.path.abspath(path))
    existing = target
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        what = "it is a file" if existing == target else f"{existing} is a file, not a folder"
        raise RunError(f"cannot write the run directory {path}: {what}; choose another {flag}")
    try:
        probe = tempfile.mkdtemp(prefix=".qhvae-probe-", dir=existing)
        os.rmdir(probe)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        if exc.errno in (errno.EROFS,):
            reason = "the file system is read-only"
        raise RunError(f"cannot write the run directory {path}: nothing can be created in {existing} ({reason}); "
                       f"choose another {flag}") from None
    return path


@contextlib.contextmanager
def sigterm_as_interrupt():
    """While active (in the main thread), SIGTERM raises ``KeyboardInterrupt`` as Ctrl-C does.

    A run stopped with ``kill PID`` then ends like an interrupted one: its status is
    recorded and the process exits through the usual path. A SIGTERM handler someone else
    installed is left alone.
    """
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt("SIGTERM")

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGTERM) is handler:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


class InterruptWatch:
    """Sets :attr:`event` the moment SIGINT or SIGTERM arrives, whatever the main thread is doing.

    A context manager for the main thread (elsewhere it does nothing). While active,
    Python's signal wakeup descriptor points at a socket that a watcher thread reads, and
    the two signals' handlers only set the event: the code that waits on it (the negative
    phase, the training loop) stops cleanly, instead of a ``KeyboardInterrupt`` landing
    at a random point inside TensorFlow. A second signal raises ``KeyboardInterrupt`` at
    once. A signal that was ignored (``SIG_IGN``) stays ignored. The previous wakeup
    descriptor and handlers are restored on exit; :attr:`event` stays set, as the record
    that the run was interrupted (it is cleared on entry).

    Attributes:
        event: a ``threading.Event``, set at the first SIGINT or SIGTERM.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, event: threading.Event | None = None):
        self.event = event if event is not None else threading.Event()
        self._active = False
        self._old_handlers: dict[int, Callable[[int, FrameType | None], Any] | int | signal.Handlers | None] = {}
        self._count = 0

    def _handler(self, signum, frame):
        self._count += 1
        self.event.set()
        if self._count > 1:  # asked twice: stop waiting for anything
            raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")

    def __enter__(self) -> InterruptWatch:
        if threading.current_thread() is not threading.main_thread():
            return self
        self.event.clear()
        self._count = 0
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(True)
        self._writer.setblocking(False)
        try:
            self._old_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        except ValueError:  # not the main interpreter
            self._reader.close()
            self._writer.close()
            return self
        self._old_handlers = {}
        for signum in self.SIGNALS:
            old = signal.getsignal(signum)
            if old is not signal.SIG_IGN:
                self._old_handlers[signum] = old
                signal.signal(signum, self._handler)
        self._active = True
        self._thread = threading.Thread(target=self._watch, name="qhvae-interrupt-watch", daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        wanted = {int(s) for s in self.SIGNALS}
        while True:
            try:
                data = self._reader.recv(64)
            except OSError:
                return
            if not data:
                return
            if wanted & set(data):
                self.event.set()
            if self._old_fd not in (-1, None):
                try:
                    os.write(self._old_fd, data)  # whoever watched before still hears its signals
                except OSError:
                    pass

    def __exit__(self, *exc) -> None:
        if not self._active:
            return
        self._active = False
        signal.set_wakeup_fd(self._old_fd)
        for signum, old in self._old_handlers.items():
            signal.signal(signum, signal.SIG_DFL if old is None else old)
        self._writer.close()
        try:
            self._reader.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._thread.join(1.0)
        self._reader.close()
