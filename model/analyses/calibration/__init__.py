"""Calibration against the market: the methods (NUTS, reweighting, tilting) and the pipeline that runs them."""
