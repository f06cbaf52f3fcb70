"""Checkpoint key maps: rewriting the key names of a checkpoint saved by another codebase into
vidbench's, so pretrained weights people already hold load into the matching vidbench model.

A map is an ordered list of (REGEX, REPLACEMENT) rules. Every rule is applied in turn to every key with
`re.sub` (mmengine's `revise_keys` convention), so later rules see what earlier ones wrote. Two
conventions go beyond renaming:
- a key rewritten to the empty string is dropped on purpose (a decoder, a fixed table vidbench
  recomputes) and reported as ignored;
- replacements ending in `|0`, `|1`, … are parts of one tensor, concatenated along dim 0 in that order
  (separate q, k, v projections → vidbench's fused qkv).
"""

from __future__ import annotations

import functools
import re
from typing import Mapping

import torch

from vidbench.errors import RegistryError

Rule = tuple[str, str]
_PART = re.compile(r"^(.*)\|(\d+)$")


@functools.lru_cache(maxsize=None)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def check_rule(pattern: str, replacement: str) -> str | None:
    """Why (pattern, replacement) cannot be applied (a bad regex or group reference), or None."""
    try:
        _compiled(pattern).sub(replacement, "")
    except re.error as e:
        return str(e)
    return None


def apply_rules(state: Mapping[str, torch.Tensor],
                rules: tuple[Rule, ...]) -> tuple[dict[str, torch.Tensor], list[str]]:
    """(renamed state, checkpoint keys dropped by a rule). Keys the rules leave alone keep their name."""
    out: dict[str, torch.Tensor] = {}
    parts: dict[str, dict[int, torch.Tensor]] = {}
    dropped = []
    for key, tensor in state.items():
        new = key
        for pattern, replacement in rules:
            new = _compiled(pattern).sub(replacement, new)
            if not new:
                break
        if not new:
            dropped.append(key)
        elif match := _PART.match(new):
            parts.setdefault(match[1], {})[int(match[2])] = tensor
        else:
            out[new] = tensor
    for key, pieces in parts.items():
        if sorted(pieces) != list(range(len(pieces))):
            raise RegistryError(f"checkpoint key map: parts {sorted(pieces)} of {key!r} are not 0…n-1")
        out[key] = torch.cat([pieces[i] for i in range(len(pieces))])
    return out, dropped
