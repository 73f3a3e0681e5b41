"""Activity definitions: thin classes that call connectors and the store, nothing else."""
