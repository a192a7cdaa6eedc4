"""Benchmarks of `make bench`: a synthetic cohort on PostgreSQL and timed runs of the services."""
