"""Connecting to a Ray cluster as clusters run today: token authentication, and one clear line when it fails.

`ray start` enables token authentication by default (Ray 2.5x on), and a client that does not send the token
is refused with a page of retries. The token is found where Ray documents it (`RAY_AUTH_TOKEN`,
`RAY_AUTH_TOKEN_PATH`, `~/.ray/auth_token`) and token mode switched on for this process before Ray is
imported; the address is then probed (a TCP connect, then one GCS call with Ray's stderr silenced) so that an
address that cannot be reached or a token that is refused is a UsageError naming the address and what to set,
before any run.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
from pathlib import Path

from vidbench.errors import UsageError

AUTH_MODE = "RAY_AUTH_MODE"
TOKEN_ENV = "RAY_AUTH_TOKEN"
TOKEN_PATH_ENV = "RAY_AUTH_TOKEN_PATH"
PROBE_TIMEOUT_S = 10.0
HOW_TO_SET = (f"set {TOKEN_ENV} to the cluster's token (or {TOKEN_PATH_ENV} to a file holding it), "
              "as `ray get-auth-token` prints it on the head node")


def token_source(environ: dict | None = None, home: Path | None = None) -> str | None:
    """Where this process finds a Ray token, in Ray's order of precedence, or None."""
    environ = os.environ if environ is None else environ
    if environ.get(TOKEN_ENV):
        return TOKEN_ENV
    path = environ.get(TOKEN_PATH_ENV)
    if path:
        if not Path(path).expanduser().is_file():
            raise UsageError(f"{TOKEN_PATH_ENV}={path} names no file: point it at the cluster's token file")
        return f"{TOKEN_PATH_ENV} ({path})"
    default = (home or Path.home()) / ".ray" / "auth_token"
    return str(default) if default.is_file() else None


def enable_token_auth(environ: dict | None = None, home: Path | None = None) -> str | None:
    """Token mode on for this process (and the tasks it starts) when a token is found and RAY_AUTH_MODE is
    unset; an explicit RAY_AUTH_MODE is respected. Returns the token's source (None: no token is sent)."""
    environ = os.environ if environ is None else environ
    source = token_source(environ, home)
    mode = environ.get(AUTH_MODE)
    if mode is not None and mode.lower() != "token":
        return None
    if source is not None and mode is None:
        environ[AUTH_MODE] = "token"
        if environ is os.environ and "ray" in sys.modules:  # Ray read its config at import: read it again
            _reload_ray_config()
    return source


def _reload_ray_config() -> None:
    with contextlib.suppress(Exception):
        from ray._raylet import AuthenticationTokenLoader, Config

        Config.initialize("")
        AuthenticationTokenLoader.instance().reset_cache()


def split_address(address: str) -> tuple[str, int] | None:
    """(host, port) of a GCS address 'host:port'; None for forms Ray resolves itself ('auto', 'ray://…')."""
    if address == "auto" or "://" in address or ":" not in address:
        return None
    host, _, port = address.rpartition(":")
    if not port.isdigit():
        raise UsageError(f"--address {address!r} is not host:port (the head's GCS port, 6379 by default)")
    return host.strip("[]"), int(port)


def check_reachable(address: str, timeout_s: float = 3.0) -> None:
    """A TCP connect to the head's GCS port: refused or silent is one line, not Ray's retry loop."""
    parts = split_address(address)
    if parts is None:
        return
    try:
        with socket.create_connection(parts, timeout=timeout_s):
            pass
    except OSError as e:
        reason = "timed out" if isinstance(e, TimeoutError) else (e.strerror or type(e).__name__).lower()
        raise UsageError(f"cannot reach the Ray cluster at {address} ({reason}): start its head with "
                         "`ray start --head` or give the head's address as --address HOST:PORT") from None


@contextlib.contextmanager
def silenced_stderr():
    """File descriptor 2 to /dev/null: Ray's C++ core writes its warnings there, below Python's sys.stderr."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def check_token(address: str, source: str | None) -> None:
    """One GCS call with this process's token: a refusal is a UsageError saying what to set."""
    if split_address(address) is None:
        return
    import ray

    outcome: dict = {}

    def probe():
        try:
            ray._raylet.GcsClient(address=address)
        except Exception as e:  # noqa: BLE001 - sorted below
            outcome["error"] = e

    thread = threading.Thread(target=probe, daemon=True)
    with silenced_stderr():
        thread.start()
        thread.join(PROBE_TIMEOUT_S)
    error = outcome.get("error")
    if thread.is_alive():
        raise UsageError(f"{address} answers, but not as a Ray cluster's head (no GCS reply in "
                         f"{PROBE_TIMEOUT_S:g} s): give the head's GCS address (`ray start --head` prints it)")
    if isinstance(error, ray.exceptions.AuthenticationError):
        sent = f"the token from {source}" if source else "a connection without a token"
        raise UsageError(f"the Ray cluster at {address} refused {sent}: {HOW_TO_SET}")
    if error is not None:
        raise UsageError(f"cannot connect to the Ray cluster at {address}: {str(error).splitlines()[0]}")


def divert_cluster_messages(log_path: Path | None) -> None:
    """The cluster's error messages (a raylet that died, a worker the memory monitor killed) to `log_path`
    instead of this process's stdout, where Ray's driver prints them and they would break `--json`. Ray has
    no setting for it: its listener calls `ray._private.worker.print_to_stdstream`, replaced here. What a lost
    node means for a run is in that run's detail (`ray_lost_attempts`)."""
    import ray._private.worker as ray_worker

    def to_log(data, ignore_prefix: bool = False):
        if log_path is None:
            return
        with contextlib.suppress(OSError), open(log_path, "a") as log:
            log.writelines(f"({data.get('pid', '')}) {line}\n" for line in data.get("lines", []))

    ray_worker.print_to_stdstream = to_log


def connect(address: str | None, init_kwargs: dict | None = None, log_path: Path | None = None) -> None:
    """ray.init on `address` (None: a new local cluster) after the token and the address are checked; the
    cluster's messages go to `log_path`."""
    import logging

    source = enable_token_auth()
    if address:
        check_reachable(address)
        check_token(address, source)
    import ray

    divert_cluster_messages(log_path)
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                 **(init_kwargs or {}))
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise UsageError(f"cannot connect to the Ray cluster {address or '(local)'}: "
                         f"{str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
