"""Jobs: the model, its lifecycle rules, job types and their registry, parameters."""
