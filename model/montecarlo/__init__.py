"""The Monte Carlo engine: sampling worlds in seeded blocks, streaming named accumulators."""
