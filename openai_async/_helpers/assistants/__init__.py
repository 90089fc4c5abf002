"""Assistants helpers: ``runs.create_and_poll`` / ``stream`` / ``submit_tool_outputs_*``, ``threads.create_and_run_*``
and the event-handler stream that folds run, run-step and message deltas into snapshots."""
