"""Use cases that join the pure core to the store and the transports, one module each."""
