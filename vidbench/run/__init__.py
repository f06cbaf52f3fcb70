"""Executing runs: the worker-side runner, executors and the sweep driver."""
