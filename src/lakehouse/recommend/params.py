"""The knobs of the recommender and of its evaluation, read from the models' dbt config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar

Params = TypeVar("Params", "RecommenderParams", "EvaluationParams")


def _parse(kind: type, value: Any) -> Any:
    """One config value as the type of its default. dbt renders `{{ var(...) }}` in a config to a
    string, so "false", "3" and "16,32" arrive as text."""
    if kind is bool:
        if isinstance(value, str):
            if value.strip().lower() not in {"true", "false", "1", "0", "yes", "no"}:
                raise ValueError(f"not a boolean: {value!r}")
            return value.strip().lower() in {"true", "1", "yes"}
        return bool(value)
    if kind is tuple:
        items = value.split(",") if isinstance(value, str) else value
        return tuple(float(item) for item in items)
    return kind(value)


def _from_mapping(cls: type[Params], settings: Mapping[str, Any] | None) -> Params:
    defaults = {field.name: getattr(cls(), field.name) for field in fields(cls)}
    unknown = set(settings or {}) - set(defaults)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} settings: {', '.join(sorted(unknown))}")
    values = {name: _parse(type(defaults[name]), value) for name, value in (settings or {}).items()}
    return cls(**values)


@dataclass(frozen=True)
class AlsParams:
    """Hyper-parameters of MLlib's implicit-feedback ALS."""

    rank: int
    reg_param: float
    alpha: float
    max_iter: int

    def describe(self) -> str:
        return f"rank={self.rank} reg_param={self.reg_param} alpha={self.alpha} max_iter={self.max_iter}"


@dataclass(frozen=True)
class RecommenderParams:
    """The recommender's knobs; the same values train the published and the evaluated model."""

    n: int = 10
    top_k: int = 20  # neighbours kept per product in item_similarity
    max_items_per_session: int = 20  # cap before the co-occurrence self-join (memory bound)
    half_life_days: float = 7.0  # recency decay of a user's interest in a product
    # False: never recommend a product the user bought (durables). True: bought products stay
    # candidates and the blend learns from "bought before" and "days since" whether people buy
    # them again (consumables, wholesale: the UCI log).
    allow_repurchase: bool = False
    candidates_per_source: int = 50  # own products, co-occurrence neighbours, category best-sellers
    popular_candidates: int = 30  # global best-sellers every user gets as candidates
    blend_training_days: int = 3  # the blend's weights are fit on this many days before the scored day
    # ALS, whose best products per user are a candidate source (fit on all events before the day).
    # Rank 32 and alpha 5 are what the ALS baseline's tuning chose on the validation days of the
    # generated sample, the 1M bench and the UCI log (docs/recommendations.md)
    als_rank: int = 32
    als_reg_param: float = 0.1
    als_alpha: float = 5.0
    als_max_iter: int = 10

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any] | None) -> RecommenderParams:
        """From the models' `recommender` config; unknown keys are an error, missing ones keep defaults."""
        return _from_mapping(cls, settings)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def als(self) -> AlsParams:
        return AlsParams(self.als_rank, self.als_reg_param, self.als_alpha, self.als_max_iter)

    @property
    def als_candidates_per_user(self) -> int:
        """How many of ALS's best products a user gets as candidates (enough for a top-n alone)."""
        return max(self.candidates_per_source, self.n)


@dataclass(frozen=True)
class EvaluationParams:
    """How reco_evaluation measures: days, cut-off, bootstrap, and the ALS baseline's tuning grid."""

    k: int = 10
    days: int = 3  # evaluation days: the newest dates with at least min_buyers buyers
    min_buyers: int = 30
    bootstrap_draws: int = 1000
    als_ranks: tuple[float, ...] = (16.0, 32.0)
    als_reg_params: tuple[float, ...] = (0.01, 0.1)
    als_alphas: tuple[float, ...] = (5.0, 40.0)
    als_max_iter: int = 10

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any] | None) -> EvaluationParams:
        """From reco_evaluation's `evaluation` config; unknown keys are an error."""
        return _from_mapping(cls, settings)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
