"""Job files submitted with ``flink run -py``: one Flink job per file."""
