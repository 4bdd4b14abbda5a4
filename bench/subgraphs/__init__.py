"""The four subgraphs of The Guild's gateway benchmark, reproduced in Python.

They serve fixed data and memoise every response by request body, so that a benchmark
run measures the gateway in front of them rather than the subgraphs themselves.
"""
