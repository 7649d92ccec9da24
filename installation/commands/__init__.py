"""One module per ``myco`` sub-command; each defines ``register(subparsers)``."""
