"""Closed-form tests of binary metrics against the rest: delta-method variances under the bootstrap's stratified resampling."""

from __future__ import annotations

import numpy as np

from mlimpact.metrics.base import (
    _ratio,
)
from mlimpact.metrics.uncertainty import (
    normal_p_value,
)

__all__ = []


def _p_value(diff, var_group, var_rest):
    """Two-sided normal p-value of ``diff`` with variance ``var_group + var_rest`` (p = 1 for 0 / 0)."""
    var = var_group + var_rest
    with np.errstate(divide="ignore", invalid="ignore"):
        z = diff / np.sqrt(var)
    return normal_p_value(np.where((var == 0) & (diff == 0), 0.0, z))


def _delta_variances(c, gradient):
    """Delta-method variances of a scale-free statistic of multinomial cell counts (f1, binned AP).

    ``c`` is ``(G, K)`` cell counts, ``gradient(counts)`` the statistic's gradient there. For a group,
    ``Var = sum_k c_k g_k^2`` (the statistic is unchanged by scaling the counts, so ``c . g = 0``).
    For the rest of the data, resampled group by group as the bootstrap does:
    ``Var = sum_k R_k g_k^2 - sum_{h != g} (c_h . g)^2 / n_h`` with ``g`` the gradient at the rest's
    counts ``R``; the sum over other groups is ``g' (M - c_g c_g' / n_g) g``, ``M = sum_h c_h c_h' / n_h``.
    Returns ``(var_group, var_rest)``; NaN where the statistic is undefined.
    """
    n = c.sum(axis=1)
    inv_n = np.where(n > 0, 1.0 / np.where(n > 0, n, 1.0), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(c > 0, gradient(c), 0.0)
        var_g = (c * g * g).sum(axis=1)
        rest = c.sum(axis=0) - c
        gr = np.where(rest > 0, gradient(rest), 0.0)
        m = (c * inv_n[:, None]).T @ c
        own = (c * gr).sum(axis=1) ** 2 * inv_n
        var_r = (rest * gr * gr).sum(axis=1) - (((gr @ m) * gr).sum(axis=1) - own)
    return var_g, np.maximum(var_r, 0.0)


def _f1_gradient(c):
    """Gradient of f1 = 2tp / (2tp + fp + fn) in the cells (tp, fp, fn, tn)."""
    tp, fp, fn = c[..., 0], c[..., 1], c[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        d = 2 * tp + fp + fn
        f = 2 * tp / d
        g_tp, g_other = 2 * (1 - f) / d, -f / d
    return np.stack([g_tp, g_other, g_other, np.where(d > 0, 0.0, np.nan)], axis=-1)


def _ap_gradient(S: int):
    """Gradient of the binned average precision in cells (bins from the highest score down) x S states."""
    pos_state = np.array([False, True]) if S == 2 else np.array([True, False, True, False])

    def gradient(c):
        cc = c.reshape(c.shape[:-1] + (-1, S))
        pos, tot = cc[..., pos_state].sum(axis=-1), cc.sum(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            tg = np.cumsum(tot, axis=-1)
            r = np.where(tg > 0, np.cumsum(pos, axis=-1) / tg, 0.0)
            p_all = pos.sum(axis=-1, keepdims=True)
            ap = (pos * r).sum(axis=-1, keepdims=True) / p_all
            # sums over the bins at or below each bin (b >= k), i.e. reversed cumulative sums
            below1 = np.cumsum((np.where(tg > 0, pos * (1 - r) / tg, 0.0))[..., ::-1], axis=-1)[..., ::-1]
            below2 = np.cumsum((np.where(tg > 0, pos * r / tg, 0.0))[..., ::-1], axis=-1)[..., ::-1]
            d_pos = (r + below1 - ap) / p_all
            d_neg = -below2 / p_all
        return np.where(pos_state, d_pos[..., None], d_neg[..., None]).reshape(c.shape)

    return gradient


def _mean_variances(s1, s2, n):
    """Variances of a group's mean and of the rest's mean (resampled group by group) from sums and
    sums of squares: ``Var = sum_h (s2_h - s1_h^2 / n_h) / n^2`` over the groups involved."""
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.maximum(s2 - s1 * _ratio(s1, n), 0.0)
        w = np.where(n > 0, w, 0.0)
        n_rest = n.sum() - n
        return w / (n * n), (w.sum() - w) / (n_rest * n_rest)
