"""Patrol dispatch: units, recommendation by travel time, orders/acks, KPIs, auto-dispatch."""
