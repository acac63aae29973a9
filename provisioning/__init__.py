"""Field provisioning: PKI, broker configuration and the technicians' ``provision`` CLI."""

__version__ = "0.1.0"
