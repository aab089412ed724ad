"""Use cases, the unit of work and the ports they need."""
