"""The send path and its values: everything a call needs, nothing a helper or workload adds.

Client configuration (``client``), one request with retries (``session``), the aiohttp seam (``transport``), the
retry policy (``retry``), the error tree (``errors``), request options and sentinels (``types``), responses
(``response``), pagination, JSON decoding (``decode``) into the generated models' base (``model``), resource
plumbing (``resource``), multipart bodies, the SSE decoder (``sse``), streams (``streaming``) and polling.

Layer rule (tests/test_layers.py): nothing here imports ``_helpers``, ``_workloads``, ``resources`` or the
assembled client.
"""
