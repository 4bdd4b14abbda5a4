"""Benchmarks: the gateway head-to-head against its peers on a fixed public workload."""
