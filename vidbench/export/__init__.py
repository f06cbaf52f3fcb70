"""Exports of a run folder to other tools (`vidbench results DIR --to ...`); each imports its tool lazily."""
