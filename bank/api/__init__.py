"""The public REST API (SPEC §5)."""
