"""Test harness: every helper a test imports (brokers, PKI, MQTT clients, a running core,
API and browser helpers, domain test data). Fixtures stay in the conftest.py files."""
