"""The application core: the webhook's and the worker's logic, in Ackflow's own types."""
