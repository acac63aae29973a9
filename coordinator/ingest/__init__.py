"""MQTT messages to committed events: sequence gaps, dead letters, raw-event purge."""
