"""Devices, their health, the camera map and snapshots on demand."""
