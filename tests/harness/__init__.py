"""Test harness: real Mosquitto brokers, PKI material and MQTT client helpers."""
