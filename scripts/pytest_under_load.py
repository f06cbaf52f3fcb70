"""Run the README's test command with CPU-heavy work beside it, as a shared CI machine or a busy laptop has.

    python scripts/pytest_under_load.py                 # pytest, with one core kept busy
    python scripts/pytest_under_load.py --busy 2 -- -x  # two busy loops; arguments after -- go to pytest

Each busy loop is a separate process spinning in pure Python (one core's worth of load), started before
pytest and stopped when it ends; a loop also stops by itself after `--limit-s` so that nothing outlives an
interrupted run. Prints pytest's wall time and exits with pytest's exit status (issue 32: the default suite
must pass, in bounded time, on a loaded machine).
"""

from __future__ import annotations

import argparse
import multiprocessing
import subprocess
import sys
import time


def spin(deadline: float) -> None:
    """Keep one core busy until the deadline (checked every ~million iterations)."""
    while time.time() < deadline:
        for _ in range(1_000_000):
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", type=int, default=1, help="busy loops beside pytest (default 1)")
    parser.add_argument("--limit-s", type=float, default=3600.0, help="a loop stops by itself after this")
    parser.add_argument("pytest_args", nargs="*", help="arguments for pytest (after --)")
    args = parser.parse_args(argv)
    deadline = time.time() + args.limit_s
    loops = [multiprocessing.Process(target=spin, args=(deadline,), daemon=True) for _ in range(args.busy)]
    for loop in loops:
        loop.start()
    started = time.perf_counter()
    try:
        code = subprocess.call([sys.executable, "-m", "pytest", *args.pytest_args])
    finally:
        for loop in loops:
            loop.terminate()
            loop.join()
    print(f"pytest_under_load: pytest exited {code} after {time.perf_counter() - started:.0f} s "
          f"with {args.busy} busy loop(s) beside it", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
