"""The HTTP face served by `scheduler run`: feeds, health, metrics."""
