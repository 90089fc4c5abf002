"""The Batch API pipeline (``pipeline``) and its ``client.batches.run`` method (``resource``)."""
