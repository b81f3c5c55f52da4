"""The live preview: ``aar-risk serve`` follows a priors file as it is saved."""
