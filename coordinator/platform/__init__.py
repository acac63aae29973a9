"""Infrastructure below the domains: database, MQTT link, jobs, notifier, metrics, bus."""
