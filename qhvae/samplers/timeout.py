"""A time limit on a call into plugin code: :func:`call_with_timeout`.

A sampler's ``call_timeout`` (:class:`~qhvae.samplers.base.BoltzmannSampler`) and the registry's
plugin discovery (``QHVAE_PLUGIN_TIMEOUT``) use it, so that a hung plugin cannot hold the caller.
"""

from __future__ import annotations

import threading

from ..exceptions import SamplerTimeoutError

__all__ = ["call_with_timeout"]


def call_with_timeout(fn, timeout: float | None, what: str):
    """Run ``fn()``; with a timeout, in a daemon thread so a hung plugin cannot hold the caller.

    The thread of a call that timed out is abandoned (Python cannot kill it), but the
    caller gets control back and the process can still exit.
    """
    if timeout is None:
        return fn()
    box: dict = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=run, name=f"qhvae:{what}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise SamplerTimeoutError(f"{what} did not return within {timeout:g} s (QHVAE_PLUGIN_TIMEOUT)")
    if "error" in box:
        raise box["error"]
    return box["value"]
