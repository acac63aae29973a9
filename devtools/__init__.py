"""Developer tools, never shipped and never imported by the coordinator: the demo city, the
unit simulator, the synthetic city, the load generator and the population/fraud data
generators. Run them from a checkout (``python -m devtools.loadgen …``)."""
