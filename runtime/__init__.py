"""Process-wide plumbing: settings, the key ring, the Temporal client factory, logging."""
