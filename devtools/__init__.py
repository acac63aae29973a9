"""Developer tools, never shipped and never imported by the coordinator: the demo city, the
unit simulator, the synthetic city, the load generator, the population/fraud data
generators and the detection evaluation set's annotation tools (``devtools.annotate``).
Run them from a checkout (``python -m devtools.loadgen …``)."""
