"""The delivery worker: claims due adjustments, sends them, records the outcome."""
