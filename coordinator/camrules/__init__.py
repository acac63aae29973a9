"""Camera rules: the centre's revisions of each camera's zones, lines, masks and thresholds."""
