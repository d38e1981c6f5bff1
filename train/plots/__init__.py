"""The course notebook's figures, generated from the package (matplotlib, PNG, headless).

One function per figure; each returns a :class:`matplotlib.figure.Figure` (object-oriented
API on an Agg canvas, no ``pyplot`` state) and writes a PNG atomically when given ``path``:

==============  ===========================================  ================================
name            function                                     file
==============  ===========================================  ================================
``mid``         :func:`mid_price_paths`                      ``mid_price_paths.png``
``quotes``      :func:`as_quotes_vs_inventory`               ``as_quotes_vs_inventory.png``
``spread``      :func:`spread_vs_time`                       ``spread_vs_time.png``
``fills``       :func:`arrival_rate_and_fill_probability`    ``arrival_fill_probability.png``
``optimal``     :func:`optimal_quotes`                       ``optimal_quotes.png``
``session``     :func:`session`                              ``session.png``
``mc``          :func:`mc_distributions`                     ``mc_distributions.png``
``gamma``       :func:`gamma_sensitivity`                    ``gamma_sensitivity.png``
``comparison``  :func:`comparison`                           ``comparison.png``
==============  ===========================================  ================================

(``name`` is what ``mm-env plot --which`` takes.)

The first five (the ``model`` group) are drawn from the market's formulas; ``session``
simulates one episode; the last three come from Monte Carlo runs of :mod:`train.evaluation.harness`
and :mod:`train.evaluation.compare`. :func:`write_plots` draws any selection into one directory
(and, with ``tables=True``, the CSV/JSON tables of the Monte Carlo runs, see
:mod:`train.evaluation.report`,
under ``tables/``); it is what ``mm-env plot`` runs. The figure functions live in
:mod:`train.plots.model` and :mod:`train.plots.mc`.
"""

from __future__ import annotations

from train.plots.mc import comparison, gamma_sensitivity, mc_distributions
from train.plots.model import (
    Session,
    arrival_rate_and_fill_probability,
    as_quotes_vs_inventory,
    mid_price_paths,
    optimal_quotes,
    session,
    simulate_session,
    spread_vs_time,
)
from train.plots.suite import (
    DEFAULT_COMPARISON,
    FIGURES,
    GROUPS,
    planned_steps,
    resolve_figures,
    write_plots,
)
from train.plots.utils import new_figure, save_figure

__all__ = [
    "DEFAULT_COMPARISON",
    "FIGURES",
    "GROUPS",
    "Session",
    "arrival_rate_and_fill_probability",
    "as_quotes_vs_inventory",
    "comparison",
    "gamma_sensitivity",
    "mc_distributions",
    "mid_price_paths",
    "new_figure",
    "optimal_quotes",
    "planned_steps",
    "resolve_figures",
    "save_figure",
    "session",
    "simulate_session",
    "spread_vs_time",
    "write_plots",
]
