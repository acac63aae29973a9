"""Adversarial tests: each states what was tried and what is expected, and fails before its fix."""
