"""What is computed from the priors beyond a run: calibration, sensitivity, comparison."""
