"""Measurements: FLOPs, memory, timing, statistics, training and accuracy."""
