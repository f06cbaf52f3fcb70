"""Files a run leaves in its run folder besides the store: where each one goes."""

from __future__ import annotations

from pathlib import Path


def weights_path(run_folder: str | Path, spec) -> Path:
    """`<run folder>/weights/<run_id>.pt`: a run's trained weights (`train.save_weights`), loadable by
    `weights:` in another suite."""
    return Path(run_folder) / "weights" / f"{spec.run_id}.pt"
