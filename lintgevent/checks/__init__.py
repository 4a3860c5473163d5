"""Checks read the project index and reachability and yield findings."""
