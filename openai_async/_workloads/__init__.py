"""Work made of many calls: the bulk runner, the Batch API pipeline, client-side rate limiting, token estimates.

Layer rule (tests/test_layers.py): imports ``_core``, ``types`` and ``_helpers``; never the other way round.
"""
