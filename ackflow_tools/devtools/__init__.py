"""Tools for running the whole pipeline on one machine: processes, ports, the dev supervisor."""
