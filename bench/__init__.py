"""Benchmarks: each module prints its figures as JSON. Run by hand or by CI's bench job."""
