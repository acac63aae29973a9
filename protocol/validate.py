"""Semantic checks of a config that its schema cannot express — shared by board and centre.

The board refuses a config that fails them (and reports why on ``state.err``); the centre
refuses to store such a revision, so it never publishes one a board would reject.
"""

from __future__ import annotations

from .messages import Config, config_masks


def validate_config(cfg: Config) -> list[str]:
    """Problems of ``cfg`` as readable sentences; an empty list means it is usable."""
    errors: list[str] = []
    names = set()
    for i, z in enumerate(cfg.zones):
        where = f"zones[{i}] ({z.name})"
        if z.name in names:
            errors.append(f"{where}: duplicate zone name")
        names.add(z.name)
        if z.rule != "line_crossing" and len(z.points) < 3:
            errors.append(f"{where}: a {z.rule} zone needs a polygon of at least 3 points")
        if z.rule == "loitering" and z.dwell_s is None:
            errors.append(f"{where}: a loitering zone needs dwell_s")
        if z.rule == "crowd" and z.min_count is None:
            errors.append(f"{where}: a crowd zone needs min_count")
        if z.schedule is not None and z.schedule not in cfg.schedules:
            errors.append(f"{where}: schedule {z.schedule!r} is not defined in schedules")
    masks = config_masks(cfg)
    for kind in ("privacy", "motion", "object"):
        seen: set[str] = set()
        for i, m in enumerate(getattr(masks, kind)):
            if m.name in seen:
                errors.append(f"masks.{kind}[{i}] ({m.name}): duplicate mask name")
            seen.add(m.name)
    return errors
