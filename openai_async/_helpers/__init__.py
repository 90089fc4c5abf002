"""Hand-written additions to the generated resources, one module or package per family: chat and Responses
streams and ``parse()``, structured outputs, realtime, webhooks, uploads, files, fine-tuning, vector stores.

Layer rule (tests/test_layers.py): imports ``_core``, ``types`` and other helpers; never ``_workloads``.
"""
