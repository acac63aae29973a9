"""Building the detection evaluation set: footage fetch, box proposals, contact sheets.

The annotations in ``bench/data/detection/`` are reproducible from the pinned footage,
the proposals written by :mod:`devtools.annotate.proposals` and the hand corrections
recorded next to them (see :mod:`devtools.annotate.build`).
"""
