# %% [markdown]
# # Two views of the AAR plan, side by side
#
# A notebook-style script (cells marked `# %%`; VS Code, Jupytext and Spyder run them one at a
# time; `python docs/examples/two_views.py` runs them all). It loads two priors files,
# simulates both with the same seed, and plots one outcome against a crux from the worlds
# each run kept. CI runs it (tests/test_architecture.py), writing the figure to a temp folder.

# %%
import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # a script: no window (remove in a notebook)
import matplotlib.pyplot as plt

import model

ROOT = Path(__file__).resolve().parents[2]
author = model.load_priors(ROOT / "priors" / "author.toml")
openai = model.load_priors(ROOT / "priors" / "openai.toml")

# %% Simulate both views with one seed; keep 20,000 worlds of each for plotting.
runs = {view.name: model.simulate(view, samples=200_000, seed=1, keep=20_000) for view in (author, openai)}
for name, run in runs.items():
    s = run.summary()["outcomes"]["success"]
    print(f"{name}: P(success) = {s['mean']:.4f} ± {s['mcse']:.4f}")

# %% P(success) given the capability the AAR needs (a crux), from the kept worlds.
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, run in runs.items():
    df = run.to_dataframe()
    twentieths = (df["capability_needed"].rank(pct=True) * 19.999).astype(int)  # 1,000 worlds each
    groups = df.groupby(twentieths)
    ax.plot(groups["capability_needed"].median(), groups["success"].mean(), marker="o", ms=3, label=name)
ax.set_xlabel("capability the AAR needs (0 = GPT-4, 1 = AGI)")
ax.set_ylabel("P(success)")
ax.legend(fontsize=8)
fig.tight_layout()

out = Path(os.environ.get("AAR_EXAMPLE_OUT", ROOT / "reports" / "examples-api"))  # git ignores reports/*
out.mkdir(parents=True, exist_ok=True)
fig.savefig(out / "two_views.png", dpi=110)
print(f"figure written to {out / 'two_views.png'}", file=sys.stderr)
