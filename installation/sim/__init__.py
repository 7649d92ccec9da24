"""The built-in simulation kernel: a pure-numpy model of a living mycelium network."""
