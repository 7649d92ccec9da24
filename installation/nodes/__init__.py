"""Live nodes: validation, wire codecs, counters, rate limits, the live/simulated mux, recordings."""
