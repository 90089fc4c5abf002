"""Bridges to other libraries' ecosystems (OpenTelemetry), built on the public hooks of ``_core.hooks``."""
