"""Side-by-side measurements; run each with ``python -m benchmarks.<name>``."""
