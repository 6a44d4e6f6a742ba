"""Same parameters, same metrics: what differs between two runs' metrics, timings left out."""

from __future__ import annotations

# Metrics whose names hold one of these are timings: they vary between runs and are not compared.
TIMING_MARKERS = ("speedup", "_seconds", "_per_s", "seconds_per_")


def differences(first: dict, second: dict) -> list[str]:
    """What differs between two runs' metrics, timings left out; [] means the same run twice."""
    out = []
    for name in sorted(set(first) | set(second)):
        if any(m in name for m in TIMING_MARKERS):
            continue
        a, b = first.get(name), second.get(name)
        if a != b:
            out.append(f"{name}: {a!r} then {b!r}")
    return out
