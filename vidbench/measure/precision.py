"""Numeric precision of a run: fp32, or bf16/fp16 through autocast. The autocast context passes the device's
type, so it is declared with the device's operations (`vidbench.devices`); measurement code imports it here."""

from __future__ import annotations

from vidbench.devices import PRECISIONS, autocast

__all__ = ["PRECISIONS", "autocast"]
