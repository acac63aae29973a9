"""Users, sessions, roles and permissions, and the tamper-evident audit log."""
