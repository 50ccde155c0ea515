"""Fault tests: real processes killed by signal, the Docker engine and PostgreSQL stopped, disks
filled; everything must converge."""
