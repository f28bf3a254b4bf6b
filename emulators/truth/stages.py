"""The stage process of one deal: the true `dealstage` sequence the generator writes."""

from __future__ import annotations

import math
import random

from core.epoch import DAY_MS
from emulators.truth.profile import (
    DWELL_SIGMA,
    ENTRY_WEIGHTS,
    P_CLOSED_SWITCH,
    P_REGRESS,
    P_REOPEN,
    P_SKIP,
    P_STALL,
    PROCESS,
)
from emulators.truth.seasons import dwell_pace
from emulators.truth.store import PipelineDef


def days_ms(rng: random.Random, median_days: float, sigma: float = DWELL_SIGMA) -> int:
    return max(60_000, int(rng.lognormvariate(math.log(median_days), sigma) * DAY_MS))


def simulate_stages(
    rng: random.Random, pipe: PipelineDef, created: int, end_ms: int, legacy_entry: bool
) -> list[tuple[str, int, bool]]:
    """True dealstage sequence: [(stage_id, ts, is_open_to_closed_move)], oldest first.

    The first entry's timestamp is ``created``; nothing is at or after ``end_ms``.
    """
    opens = pipe.open_stages
    won, lost = pipe.won_stage, pipe.lost_stage
    params = PROCESS[pipe.id]
    n_open = len(opens)
    out: list[tuple[str, int, bool]] = []
    t = created
    if legacy_entry:
        legacy = next(s.id for s in pipe.stages if s.archived)
        out.append((legacy, t, False))
        t += days_ms(rng, 6.0)
        if t >= end_ms:
            return out
        i = 0
        out.append((opens[0], t, False))
    else:
        weights = ENTRY_WEIGHTS[: min(n_open - 1, len(ENTRY_WEIGHTS))]
        i = rng.choices(range(len(weights)), weights)[0]
        out.append((opens[i], t, False))
    closed: str | None = None
    reopened = False
    pace = rng.lognormvariate(0.0, 0.5)
    while True:
        if closed is None:
            stall = 10.0 if rng.random() < P_STALL else 1.0
            t += days_ms(rng, params[i][0] * pace * stall * dwell_pace(t))
            if t >= end_ms:
                break
            if i > 0 and rng.random() < P_REGRESS:
                i = max(0, i - (1 if rng.random() < 0.7 else 2))
                out.append((opens[i], t, False))
                continue
            if rng.random() < params[i][1]:
                closed = lost
            elif rng.random() < P_SKIP and i + 2 <= n_open:
                if i + 2 == n_open:
                    closed = won
                else:
                    i += 2
            elif i + 1 < n_open:
                i += 1
            else:
                closed = won
            if closed is not None:
                out.append((closed, t, True))
            else:
                out.append((opens[i], t, False))
            continue
        # closed: maybe reopen once, maybe correct won->lost, else stop
        if not reopened and rng.random() < P_REOPEN:
            t += days_ms(rng, 12.0)
            if t >= end_ms:
                break
            reopened = True
            i = n_open - 1 if closed == won else rng.randrange(max(1, n_open - 1))
            closed = None
            out.append((opens[i], t, False))
            continue
        if closed == won and rng.random() < P_CLOSED_SWITCH:
            t += days_ms(rng, 3.0)
            if t < end_ms:
                out.append((lost, t, False))  # closed -> closed: closedate unchanged
        break
    return out


# ---------------------------------------------------------------- builders
