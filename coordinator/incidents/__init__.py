"""Incidents, operator actions, cross-camera merge rules, false-alarm tuning, statuses."""
