"""A local server that speaks the Autotask REST API (SPEC.md §3)."""
