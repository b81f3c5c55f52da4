"""The model's vocabulary and equations: variables, the outcome table, the structural equations
and the array namespace they run on (numpy or PyTensor). Imports nothing else of the package."""
