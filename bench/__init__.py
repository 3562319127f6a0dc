"""Benchmarks: each ``bench/bench_*.py`` has ``run(quick) -> list[Result]``."""
