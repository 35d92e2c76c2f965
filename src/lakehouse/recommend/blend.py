"""The recommender's scoring: an L2-regularised logistic regression over the candidate features,
fit on what the buyers of earlier days bought among their candidates (numpy, on the driver: a few
thousand rows per day at the sample's scale, ~0.5M at 10M events)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from lakehouse.recommend.candidates import FEATURES

# Below this many bought candidates in the training days the weights are noise: use FALLBACK
MIN_POSITIVES = 20
L2 = 1.0
NEWTON_STEPS = 25
WEIGHTS_SCHEMA = (
    "feature string, coefficient double, mean double, scale double, examples long, positives long, "
    "fitted boolean"
)
INTERCEPT = "(intercept)"


@dataclass(frozen=True)
class BlendWeights:
    """Coefficients on standardised features ((x - mean) / scale), intercept first."""

    intercept: float
    coefficients: tuple[float, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    examples: int = 0
    positives: int = 0
    fitted: bool = False  # False: the fixed FALLBACK weights

    def score(self, features: pd.DataFrame) -> np.ndarray:
        """Probability that the user buys each candidate (rows of candidate_features)."""
        values = features[list(FEATURES)].to_numpy("float64")
        logit = ((values - np.array(self.means)) / np.array(self.scales)) @ np.array(self.coefficients)
        return 1.0 / (1.0 + np.exp(-(logit + self.intercept)))

    def to_frame(self) -> pd.DataFrame:
        """One row per feature (and the intercept), as the reco_blend_weights model stores them."""
        return pd.DataFrame(
            {
                "feature": [INTERCEPT, *FEATURES],
                "coefficient": [self.intercept, *self.coefficients],
                "mean": [0.0, *self.means],
                "scale": [1.0, *self.scales],
                "examples": self.examples,
                "positives": self.positives,
                "fitted": self.fitted,
            }
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> BlendWeights:
        """The inverse of to_frame; a feature missing from `frame` weighs nothing."""
        rows = frame.set_index("feature")
        row = rows.reindex(list(FEATURES))
        return cls(
            intercept=float(rows.loc[INTERCEPT, "coefficient"]),
            coefficients=tuple(row["coefficient"].fillna(0.0).astype(float)),
            means=tuple(row["mean"].fillna(0.0).astype(float)),
            scales=tuple(row["scale"].fillna(1.0).astype(float)),
            examples=int(frame["examples"].iloc[0]),
            positives=int(frame["positives"].iloc[0]),
            fitted=bool(frame["fitted"].iloc[0]),
        )


def _fallback() -> BlendWeights:
    """Without enough training data: the user's own products first (carted ones before viewed),
    then neighbours, category best-sellers and ALS's products, then global best-sellers."""
    weight = {
        "own_rank": 4.0,
        "in_cart": 1.0,
        "similar_rank": 1.0,
        "category_rank": 1.0,
        "als_rank": 1.0,
        "popular_rank": 0.5,
    }
    return BlendWeights(
        intercept=0.0,
        coefficients=tuple(weight.get(name, 0.0) for name in FEATURES),
        means=(0.0,) * len(FEATURES),
        scales=(1.0,) * len(FEATURES),
    )


FALLBACK = _fallback()


def fit_blend(features: pd.DataFrame, labels: np.ndarray, l2: float = L2) -> BlendWeights:
    """Logistic regression of `labels` (1 = bought) on FEATURES by Newton steps (IRLS), features
    standardised, the intercept unpenalised. FALLBACK when fewer than MIN_POSITIVES positives."""
    y = np.asarray(labels, dtype="float64")
    positives = int(y.sum())
    if positives < MIN_POSITIVES or positives == len(y):
        return replace(FALLBACK, examples=len(y), positives=positives)
    x = features[list(FEATURES)].to_numpy("float64")
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    design = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
    penalty = l2 * np.eye(design.shape[1])
    penalty[0, 0] = 0.0
    w = np.zeros(design.shape[1])
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-(design @ w)))
        gradient = design.T @ (p - y) + penalty @ w
        hessian = (design * (p * (1.0 - p))[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return BlendWeights(
        intercept=float(w[0]),
        coefficients=tuple(float(c) for c in w[1:]),
        means=tuple(float(m) for m in mean),
        scales=tuple(float(s) for s in scale),
        examples=len(y),
        positives=positives,
        fitted=True,
    )
