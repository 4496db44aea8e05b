"""Candidate bones from their edges: long, parallel, opposite-signed steps.

A long bone projects as a band bounded by two sharp periosteal edges that run along the
limb for its whole visible length; soft tissue has no such edges, a lesion's edges are
short and curved, and skin edges bound a band wider than any bone. So:

1. The limb direction is the dominant edge orientation (structure tensor of the
   gradient, field excluded).
2. The image is resampled into that frame (rows along the limb, columns across).
3. Rows are cut into blocks ~20 mm long; per block the *median* across-limb gradient of
   every column keeps edges that persist along the block (a lesion covering less than
   half the block does not survive the median).
4. Per block, rising/falling edge pairs 5..max_bone_width_mm apart with a band between
   denser than the tissue on each side (as only bone is; a muscle belly between fat
   planes has sharp edges too) are bone cross-sections, chosen by the weaker edge's
   strength weighted by the pair's balance (a tube's two edges are alike; one cortex
   paired with a fat plane or the limb's outline is not); pairs overlapping from block
   to block are linked
   into bones at least ``min_bone_length_mm`` long. Where two bones lie side by side, the
   pair of their outer edges (an envelope of both) is dropped when the soft tissue
   between them runs along most of the limb's bones (a lesion's cleft is shorter), and
   a track that rides within a few mm along a clearly longer one is mineral on that bone.

The result is a coarse band per bone (its edges to within a few mm); the exact
sub-pixel periosteal edges are fitted afterwards (:mod:`._bone_fit`).
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np

from ._grid import WorkGrid, gaussian

# Length (mm) of the blocks along the limb whose median profiles are paired into bones.
_BLOCK_MM = 20.0
# Blocks either side over which the soft tissue beside a band is read (3 -> 140 mm in all):
# longer than a lesion lying beside a bone, shorter than a limb's taper.
_SOFT_REACH_BLOCKS = 3
# A track within this distance (mm) of a longer one over _RIDER_MIN_SHARE of its blocks,
# and at most _RIDER_MAX_LENGTH_RATIO as long, is mineral or tissue on that bone.
_RIDER_GAP_MM = 6.0
_RIDER_MIN_SHARE = 0.8
_RIDER_MAX_LENGTH_RATIO = 0.7


def limb_gradients(smooth: np.ndarray, grid: WorkGrid) -> tuple[np.ndarray, np.ndarray]:
    """Row and column derivatives of ``smooth`` blurred over 1 mm, for :func:`limb_direction`."""
    import cv2

    s = gaussian(smooth, grid.px(1.0))
    return cv2.Sobel(s, cv2.CV_32F, 0, 1, ksize=3), cv2.Sobel(s, cv2.CV_32F, 1, 0, ksize=3)


def limb_direction(smooth: np.ndarray, valid: np.ndarray, grid: WorkGrid,
                   gradients: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Unit (row, col) vector along the dominant edges (the limb / shaft axis) of the
    ``valid`` pixels; ``gradients`` are :func:`limb_gradients` of ``smooth`` if already known."""
    gr, gc = limb_gradients(smooth, grid) if gradients is None else gradients
    m = valid & np.isfinite(gr) & np.isfinite(gc)
    gr, gc = gr[m].astype(np.float64), gc[m].astype(np.float64)
    if gr.size < 10:
        return np.array([1.0, 0.0])
    mag = np.sqrt(gr * gr + gc * gc)  # float32 inputs: the squares are exact in float64
    # Strong edges only, and capped, so one marker or lesion cannot steer the tensor.
    # Both percentiles from one selection.
    p90, cap = np.percentile(mag, [90.0, 99.0])
    keep = mag >= p90
    w = np.minimum(mag[keep], cap) / np.maximum(mag[keep], 1e-12)
    a, b = gr[keep] * w, gc[keep] * w
    tensor = np.array([[np.sum(a * a), np.sum(a * b)], [np.sum(a * b), np.sum(b * b)]])
    evals, evecs = np.linalg.eigh(tensor)
    g = evecs[:, 1]  # dominant gradient direction, across the limb
    along = np.array([-g[1], g[0]])
    if along[0] < -1e-9 or (abs(along[0]) <= 1e-9 and along[1] < 0):
        along = -along
    return along


def limb_frame(shape: tuple[int, int], along: np.ndarray):
    """Affine inverse map of a frame covering the whole image (rows along ``along``)."""
    rows, cols = shape
    across = np.array([-along[1], along[0]])
    ctr = np.array([(rows - 1) / 2.0, (cols - 1) / 2.0])
    corners = np.array([[0, 0], [0, cols - 1], [rows - 1, 0], [rows - 1, cols - 1]], float) - ctr
    u = corners @ along
    v = corners @ across
    u0, v0 = float(u.min()), float(v.min())
    h, w = int(np.ceil(u.max() - u0)) + 1, int(np.ceil(v.max() - v0)) + 1
    m = np.array(
        [
            [across[1], along[1], ctr[1] + u0 * along[1] + v0 * across[1]],
            [across[0], along[0], ctr[0] + u0 * along[0] + v0 * across[0]],
        ]
    )
    return m, (h, w), across, ctr, u0, v0


def _nan_median_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median over axis 1 ignoring NaN (lower median), and the count of valid values.

    Sorting puts NaN last, so the median of the n valid values is at (n - 1) // 2; much
    faster than np.nanmedian, which goes through masked arrays.
    """
    srt = np.sort(x.astype(np.float32, copy=False), axis=1)  # np.sort copies anyway
    n = np.sum(np.isfinite(x), axis=1)
    k = np.clip((n - 1) // 2, 0, x.shape[1] - 1)
    med = np.take_along_axis(srt, k[:, None, :], axis=1)[:, 0, :]
    return np.where(n > 0, med, np.nan), n


def _long_or_leaving(track, ok_f: np.ndarray, block: int, grid: WorkGrid, seg) -> bool:
    """A shaft leaves the field (or is long); a dense lesion (<= 80 mm) lies inside it.

    True when the track spans at least ``min_bone_track_mm`` or when the frame beyond both
    of its ends (within two blocks) is mostly outside the tissue field.
    """
    b0, b1 = track[0][0], track[-1][0]
    if (b1 - b0 + 1) * block * grid.pixel_mm >= seg.min_bone_track_mm:
        return True
    h = ok_f.shape[0]
    leaves = 0
    for end, step, (_, a, c, _) in ((b0, -1, track[0]), (b1, 1, track[-1])):
        lo_r = (end + step) * block if step > 0 else max((end - 2) * block, 0)
        hi_r = (end + 3) * block if step > 0 else end * block
        lo_r, hi_r = max(min(lo_r, h), 0), max(min(hi_r, h), 0)
        if hi_r <= lo_r or ok_f[lo_r:hi_r, max(a, 0) : c + 1].mean() < 0.5:
            leaves += 1
    # A short shaft crosses the whole (small) field; a lesion may touch one edge.
    return leaves == 2


def _drop_riders(tracks: list, max_gap: int) -> list:
    """Drop tracks that ride along a longer track, closer than ``max_gap`` (frame columns).

    Dense mineral lying along a bone (two collinear lesions, or a lesion and the dense
    soft tissue beside it) can make edge pairs of its own that link into a track as long
    as a shaft. Such a track hugs the bone it lies on (a lesion's cleft is a few mm at
    most) over most of its length, and is clearly shorter than the bone. Two real bones
    side by side (forearm, leg) are about as long as each other and keep an interosseous
    space between their shafts.
    """
    order = sorted(tracks, key=len, reverse=True)
    kept: list = []
    for t in order:
        rows = {b: (a, c) for b, a, c, _ in t}
        rides = False
        for other in kept:
            if len(t) > _RIDER_MAX_LENGTH_RATIO * len(other):
                continue
            near = sum(
                1 for b, a2, c2, _ in other
                if b in rows and max(rows[b][0] - c2, a2 - rows[b][1]) < max_gap
            )
            if near >= _RIDER_MIN_SHARE * len(t):
                rides = True
                break
        if not rides:
            kept.append(t)
    return [t for t in tracks if any(t is k for k in kept)]


def _same_shaft(pa: float, pc: float, a: float, c: float, width: float) -> bool:
    """Whether the edge pair (a, c) can continue a shaft last seen at (pa, pc), ``width`` wide.

    A shaft keeps its width within a factor of 1.6 from block to block, or changes it
    symmetrically (a metaphysis flares both cortices); a lesion on one cortex moves one
    edge and leaves the other where it was.
    """
    if width / 1.6 <= c - a <= 1.6 * width:
        return True
    da, dc = a - pa, c - pc
    big, small = max(abs(da), abs(dc)), min(abs(da), abs(dc))
    return da * dc < 0 and small >= big / 3.0


def _join_collinear(tracks: list, max_blocks: int) -> list:
    """Join tracks that are one shaft interrupted by a lesion.

    A juxtacortical lesion up to ~80 mm long replaces the bone's edge pair in the blocks it
    covers (the pairs there are the lesion's edges, or none), which breaks the shaft into
    two tracks. Two tracks are one bone when the second starts at most ``max_blocks``
    blocks after the first ends and one of its first three intervals overlaps one of the
    first's last three by more than half of the narrower one, with a width the shaft can
    have there (:func:`_same_shaft`); the blocks between the two are dropped (the lesion
    had widened them, or only a cortex was paired there).
    """
    tracks = sorted(tracks, key=lambda t: t[0][0])
    while True:
        for i, j in itertools.permutations(range(len(tracks)), 2):
            joined = _joined(tracks[i], tracks[j], max_blocks)
            if joined is not None:
                tracks[i] = joined
                del tracks[j]
                break
        else:
            return tracks


def _joined(t1: list, t2: list, max_blocks: int) -> list | None:
    """``t1`` continued by ``t2`` when they are one shaft (:func:`_join_collinear`), else None."""
    # Each part must be a shaft on its own (two blocks at least). They may overlap by a
    # block or two where one holds a cortex-only pair.
    if len(t1) < 2 or len(t2) < 2:
        return None
    if not (-2 <= t2[0][0] - t1[-1][0] <= max_blocks) or t2[0][0] <= t1[0][0]:
        return None
    # The blocks next to the lesion may be widened by it, or hold only a cortex: try the
    # last three of t1 against the first three of t2.
    for cut, start in itertools.product(range(len(t1), max(len(t1) - 3, 0), -1),
                                        range(min(3, len(t2) - 1))):
        (b1, a1, c1, _), (b2, a2, c2, _) = t1[cut - 1], t2[start]
        if not (0 < b2 - b1 <= max_blocks + 2):
            continue
        ov = (min(c1, c2) - max(a1, a2)) / max(min(c1 - a1, c2 - a2), 1)
        if ov > 0.5 and _same_shaft(a1, c1, a2, c2, c1 - a1):
            return t1[:cut] + t2[start:]
    return None


def _peaks(g: np.ndarray, thr: float, sign: float) -> list[int]:
    """Indices of local extrema of ``sign * g`` above ``thr``."""
    x = sign * g
    inner = (x[1:-1] > thr) & (x[1:-1] >= x[:-2]) & (x[1:-1] >= x[2:])
    return list(np.nonzero(inner)[0] + 1)


class EdgePair(NamedTuple):
    """One block's candidate bone cross-section: a rising edge at column ``a`` and a falling
    one at ``c``. Tuples sort by ``rank`` first (see :func:`_pair_rank`)."""

    rank: float
    strength: float  # the weaker edge's strength
    a: int
    c: int


def _pair_rank(rise: float, fall: float) -> tuple[float, float]:
    """Rank and strength of an edge pair from its rising and falling edge strengths.

    The strength is the weaker edge's. A tube projects two edges of the same strength,
    while a pair of one cortex and a soft-tissue step (a fat plane, the limb's outline)
    is unbalanced; and as the two share the bone's weaker edge, strength alone ties them
    or prefers the wrong one. So pairs are ranked by the strength weighted by the
    balance, ``weak * (weak / strong)``.
    """
    weak, strong = sorted((rise, fall))
    return weak * weak / max(strong, 1e-12), weak


def _choose_pairs(cands: list[EdgePair], floor: float) -> list[tuple[int, int, float]]:
    """Non-overlapping pairs of one block, best rank first: [(a, c, strength)].

    ``cands`` are sorted by falling rank; pairs weaker than ``floor`` are soft-tissue
    texture and left out.
    """
    chosen: list[tuple[int, int, float]] = []
    for _, weak, a, c in cands:
        if weak >= floor and all(c < a2 or a > c2 for a2, c2, _ in chosen):
            chosen.append((a, c, weak))
    return chosen


def _along_limb_low(smed: np.ndarray, reach: int) -> np.ndarray:
    """Per block and column, the 30th percentile of the block medians ``reach`` blocks
    either side: what lies there along the limb, without a lesion shorter than the window.
    NaN where the window has no value; otherwise np.nanpercentile's linear interpolation,
    without its per-column loop (np.sort puts NaN last, like :func:`_nan_median_rows`).
    """
    low = np.empty_like(smed)
    for b in range(smed.shape[0]):
        win = smed[max(b - reach, 0) : b + reach + 1]
        n = np.sum(np.isfinite(win), axis=0)
        srt = np.sort(win, axis=0)
        pos = 0.3 * np.maximum(n - 1, 0)
        k0, k1 = np.floor(pos).astype(int), np.ceil(pos).astype(int)
        v0 = np.take_along_axis(srt, k0[None, :], axis=0)[0]
        v1 = np.take_along_axis(srt, k1[None, :], axis=0)[0]
        low[b] = np.where(n > 0, v0 + (pos - k0) * (v1 - v0), np.nan)
    return low


# The pair search below takes a mean, median or percentile of a few dozen values some
# hundreds of times per image, where NumPy's own functions spend ~10-70 us each on
# argument handling. These give NumPy's values (1-D, finite, float32 or float64) from
# one sort: tested against np.mean / np.median / np.percentile.


def _mean_of(x: np.ndarray):
    """``np.mean(x)``: NumPy's (pairwise) sum, over the count as NumPy divides it (the
    count is an intp, so in float64, then rounded to the array's type)."""
    return x.dtype.type(float(np.add.reduce(x)) / x.size)


def _median_of(x: np.ndarray):
    """``np.median(x)`` of a nonempty array: the middle value, or the mean of the two."""
    s = np.sort(x)
    k = s.size // 2
    return s[k] if s.size % 2 else (s[k - 1] + s[k]) / 2


def _percentile_of(x: np.ndarray, q: float):
    """``np.percentile(x, q)`` (linear) of a nonempty array, with NumPy's interpolation:
    from the lower neighbour below a weight of 0.5, from the upper one above, in the
    array's type."""
    s = np.sort(x)
    v = (s.size - 1) * (q / 100)
    if v >= s.size - 1:
        return s[-1]
    i = int(math.floor(v))
    t = v - i
    a, b = s[i], s[i + 1]
    d = b - a
    if t >= 0.5:
        return b - d * x.dtype.type(1 - t)
    return a + d * x.dtype.type(t)


def _denser_than_both_sides(band: np.ndarray, soft: np.ndarray, a: int, c: int, side: int) -> bool:
    """Whether a band (a, c) is denser than the tissue on *each* side of it, as a bone is.

    Bone attenuates more than any soft tissue, so nearly all of a bone's band (its lower
    quartile) lies above the soft tissue on both sides. A muscle between fat planes is a
    band too, with edges as sharp as a cortex after vendor processing; but beside a bone it
    is less dense than the bone on that side, and the envelope of a bone and such a muscle
    holds the muscle, less dense than the tissue beyond it. Taken for bones, both swallowed
    the lesions lying in them. The sides are read from ``soft``, the along-limb low of the
    block medians (:func:`_along_limb_low`), so that a lesion beside a bone, shorter than
    that window, does not count as its side. A side with no reading does not count.
    """
    q = float(_percentile_of(band, 25.0))
    for lo, hi in ((max(a - side, 0), a), (c + 1, c + 1 + side)):
        vals = soft[lo:hi]
        vals = vals[np.isfinite(vals)]
        if vals.size and q <= float(_median_of(vals)):
            return False
    return True


def _flank_and_band(prof: np.ndarray, a: int, c: int, side: int) -> tuple[np.ndarray, np.ndarray]:
    """Finite profile values of the soft tissue ``side`` columns beyond the pair (a, c), and
    of the band between its edges."""
    flank = np.concatenate([prof[max(a - side, 0) : a], prof[c + 1 : c + 1 + side]])
    band = prof[a : c + 1]
    return flank[np.isfinite(flank)], band[np.isfinite(band)]


def _envelope_gaps(
    cands: list[EdgePair], prof: np.ndarray, side: int, min_gap: int
) -> dict[tuple[int, int], tuple[int, int]]:
    """Edge pairs of one block that split into two bands around a gap: {(a, c): (c1, a2)}.

    A pair (a, c) splits when (a, c1) and (a2, c) are candidates too, with c1 < a2 and a
    gap of soft tissue at least ``min_gap`` wide and narrower than twice the wider band.
    Two bones side by side (forearm, leg) split so: the interosseous space is about as
    wide as the bones, and its density falls to the soft tissue's (within a quarter of
    the way up to the band's; ``prof`` is the block's median profile, the soft tissue is
    read ``side`` columns beyond the pair). A single tube splits the same way only into
    its two cortices, around a medullary cavity at least ~3 times wider than a cortex (a
    cortex is at most ~40% of the radius); a metaphysis's trabecular dips are narrow or
    shallow.
    """
    starts: dict[int, list[int]] = {}
    ends: dict[int, list[int]] = {}
    for _, _, a, c in cands:
        starts.setdefault(a, []).append(c)
        ends.setdefault(c, []).append(a)
    out: dict[tuple[int, int], tuple[int, int]] = {}
    for _, _, a, c in cands:
        splits = [(c1, a2) for c1 in starts.get(a, ()) if c1 < c
                  for a2 in ends.get(c, ())
                  if min_gap <= a2 - c1 < 2.0 * max(c1 - a, c - a2)]
        if splits:
            flank, band = _flank_and_band(prof, a, c, side)
            if flank.size == 0 or band.size == 0:
                continue
            soft, top = float(np.median(flank)), float(np.percentile(band, 90.0))
            splits = [(c1, a2) for c1, a2 in splits
                      if np.nanmin(prof[c1 : a2 + 1]) <= soft + 0.25 * (top - soft)]
        if splits:
            # The widest gap: the soft tissue between the bones, not a cortex's texture.
            out[(a, c)] = max(splits, key=lambda g: g[1] - g[0])
    return out


def _persistent_gaps(gaps: list[dict], min_blocks: int, max_skip: int = 2) -> list[set]:
    """Per block, the envelope pairs whose gap continues over ``min_blocks`` blocks.

    The outer edges of two bones pair up as one band as strong as either bone, so a
    choice by edge strength may take it. A gap that runs along the limb for as long as
    a bone must be one (soft tissue between two bones); a shorter one is a lesion's
    cleft beside a single bone, and that envelope stays a candidate (the edge fit
    trims the lesion off the bone). Gaps of blocks up to ``max_skip`` apart chain when
    their column intervals overlap.
    """
    nodes = [(b, key, gap) for b, block in enumerate(gaps) for key, gap in block.items()]
    parent = list(range(len(nodes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, (b1, _, (l1, r1)) in enumerate(nodes):
        for j in range(i + 1, len(nodes)):
            b2, _, (l2, r2) = nodes[j]
            if 0 < b2 - b1 <= max_skip and min(r1, r2) >= max(l1, l2):
                parent[root(j)] = root(i)
    blocks: dict[int, set[int]] = {}
    for i, (b, _, _) in enumerate(nodes):
        blocks.setdefault(root(i), set()).add(b)
    out: list[set] = [set() for _ in gaps]
    for i, (b, key, _) in enumerate(nodes):
        if len(blocks[root(i)]) >= min_blocks:
            out[b].add(key)
    return out


def bone_blobs(smooth: np.ndarray, valid: np.ndarray, grid: WorkGrid, seg) -> np.ndarray:
    """Return an int32 label image (working grid) of candidate bone bands, 0 elsewhere."""
    import cv2

    rows_in, cols_in = smooth.shape
    result = np.zeros((rows_in, cols_in), np.int32)
    if valid.sum() < 100:
        return result
    # Candidate bands need ~1 mm, not the working pitch: detect on a 2x coarser copy.
    f = 2 if min(rows_in, cols_in) >= 200 else 1
    if f > 1:
        small = (cols_in // f, rows_in // f)
        smooth = cv2.resize(smooth, small, interpolation=cv2.INTER_AREA)
        valid = cv2.resize(valid.astype(np.uint8), small, interpolation=cv2.INTER_NEAREST) > 0
        grid = WorkGrid(grid.input_shape, grid.spacing_mm, grid.pixel_mm * f,
                        (small[1], small[0]), grid.spacing_assumed)
    rows, cols = smooth.shape
    out = np.zeros((rows, cols), np.int32)
    along = limb_direction(smooth, valid, grid)
    m, (h, w), across, ctr, u0, v0 = limb_frame(smooth.shape, along)
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    s_f = cv2.warpAffine(gaussian(smooth, grid.px(0.5)), m, (w, h), flags=flags,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    ok_f = cv2.warpAffine(valid.astype(np.uint8), m, (w, h),
                          flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP, borderValue=0) > 0
    # Across-limb derivative over +-0.8 mm: the cortex step, not single-pixel noise.
    k = max(int(round(grid.px(0.8))), 1)
    g_f = np.zeros_like(s_f)
    g_f[:, k:-k] = (s_f[:, 2 * k :] - s_f[:, : -2 * k]) / (2.0 * k)
    ok_g = ok_f.copy()
    ok_g[:, k:-k] &= ok_f[:, 2 * k :] & ok_f[:, : -2 * k]
    ok_g[:, :k] = ok_g[:, -k:] = False
    block = max(int(round(grid.px(_BLOCK_MM))), 8)
    nb = -(-h // block)
    if nb < 1:
        return result
    pad_rows = nb * block - h
    g_p = np.pad(np.where(ok_g, g_f, np.nan), ((0, pad_rows), (0, 0)), constant_values=np.nan)
    s_p = np.pad(np.where(ok_f, s_f, np.nan), ((0, pad_rows), (0, 0)), constant_values=np.nan)
    gmed, n_g = _nan_median_rows(g_p.reshape(nb, block, w))
    smed, _ = _nan_median_rows(s_p.reshape(nb, block, w))
    # A block reaching the field edge counts where a third of its rows are tissue.
    enough = n_g >= max(block // 3, 3)
    gmed = np.where(enough, gmed, 0.0)
    smed = np.where(enough, smed, np.nan)
    # Edge threshold: the steps of the image's strongest persistent edges set the scale,
    # the noise of the block medians sets the floor.
    vals = gmed[enough]
    if vals.size < 10:
        return result
    # Noise of one gradient pixel from row-to-row differences (edges run along rows, so
    # they cancel), then of a median of `block` rows (x 1.25 / sqrt(n)).
    both = ok_g[1:] & ok_g[:-1]
    dif = (g_f[1:] - g_f[:-1])[both]
    if dif.size < 10:
        return result
    noise = float(np.median(np.abs(dif))) / 0.6745 / np.sqrt(2.0)
    noise = 1.25 * noise / np.sqrt(block) + 1e-12
    strong = float(np.percentile(np.abs(vals), 99.5))
    thr = max(6.0 * noise, 0.08 * strong)
    min_w, max_w = grid.px(seg.min_bone_width_mm), grid.px(seg.max_bone_width_mm)
    side = max(int(round(grid.px(3.0))), 2)
    soft = _along_limb_low(smed, _SOFT_REACH_BLOCKS)
    all_cands: list[list[EdgePair]] = []
    for b in range(nb):
        g = gmed[b]
        rise = _peaks(g, thr, 1.0)
        fall = _peaks(g, thr, -1.0)
        cands = []
        for a in rise:
            for c in fall:
                if not (min_w <= c - a <= max_w):
                    continue
                prof = smed[b]
                left, right = prof[max(a - side, 0) : a], prof[c + 1 : c + 1 + side]
                # A bone has tissue on both sides; an edge at the field border (a band of
                # air between the collimation and the skin's processing halo) does not.
                # Less than half finite (the count, as np.mean of isfinite compares it).
                if (2 * np.count_nonzero(np.isfinite(left)) < left.size
                        or 2 * np.count_nonzero(np.isfinite(right)) < right.size):
                    continue
                flank, band_vals = _flank_and_band(prof, a, c, side)
                if flank.size == 0 or band_vals.size == 0:
                    continue
                inside, outside = float(_mean_of(band_vals)), float(_median_of(flank))
                if not np.isfinite(inside) or not np.isfinite(outside) or inside <= outside:
                    continue
                if not _denser_than_both_sides(band_vals, soft[b], a, c, side):
                    continue
                cands.append(EdgePair(*_pair_rank(float(g[a]), float(-g[c])), a, c))
        all_cands.append(sorted(cands, reverse=True))
    # Envelopes of two bones side by side are dropped where their gap runs as long as a
    # bone, and along most of what is visible of the limb's bones (:func:`_persistent_gaps`):
    # a lesion's cleft is shorter.
    blocks_with_pairs = sum(1 for c in all_cands if c)
    gap_blocks = max(int(np.ceil(seg.min_bone_track_mm / _BLOCK_MM)),
                     int(np.ceil(0.6 * blocks_with_pairs)), 2)
    gaps = [_envelope_gaps(c, smed[b], side, max(int(round(grid.px(2.0))), 1))
            for b, c in enumerate(all_cands)]
    two_bones = _persistent_gaps(gaps, gap_blocks)
    all_cands = [[p for p in c if (p.a, p.c) not in drop] for c, drop in zip(all_cands, two_bones)]
    # Cortical edges are the strongest persistent edges of the image: weak pairs are
    # soft-tissue texture, and a bone's track must be comparable to the best one.
    best_pair = max((p.strength for c in all_cands for p in c), default=0.0)
    pairs = [_choose_pairs(c, 0.25 * best_pair) for c in all_cands]
    # Link pairs of nearby blocks (a lesion may hide a bone for a block or two) whose
    # intervals overlap and whose widths agree into tracks.
    max_gap = 3
    tracks: list[list[tuple[int, int, int, float]]] = []
    for b in range(nb):
        taken: set[int] = set()
        for a, c, sc in sorted(pairs[b], key=lambda p: -p[2]):
            best, best_ov = None, 0.0
            for ti, t in enumerate(tracks):
                pb, pa, pc, _ = t[-1]
                if ti in taken or not (0 < b - pb <= max_gap):
                    continue
                ov = (min(c, pc) - max(a, pa)) / max(min(c - a, pc - pa), 1)
                # A shaft's width changes slowly; a pair much wider or narrower than the
                # track so far is a lesion's edges (the gap is bridged by _join_collinear).
                wt = float(np.median([p[2] - p[1] for p in t]))
                if len(t) >= 2 and not _same_shaft(pa, pc, a, c, wt):
                    continue
                if ov > 0.3 and ov > best_ov:
                    best, best_ov = ti, ov
            if best is None:
                tracks.append([(b, a, c, sc)])
                taken.add(len(tracks) - 1)
            else:
                tracks[best].append((b, a, c, sc))
                taken.add(best)
    tracks = _join_collinear(tracks, max_blocks=5)
    min_blocks = max(int(np.ceil(seg.min_bone_length_mm / _BLOCK_MM)), 2)
    band = np.zeros((h, w), np.int32)
    k_out = 0
    margin = max(int(round(grid.px(2.0))), 1)
    # Only shafts set the bar: a dense lesion beside a bone makes a short, strong track
    # of its own, which must not outrank the bone it lies on.
    keep = [t for t in tracks
            if len(t) >= min_blocks and _long_or_leaving(t, ok_f, block, grid, seg)]
    keep = _drop_riders(keep, max(int(round(grid.px(_RIDER_GAP_MM))), 1))
    score = {id(t): float(np.median([p[3] for p in t])) for t in keep}
    top = max(score.values(), default=0.0)
    for t in keep:
        if score[id(t)] < 0.4 * top:
            continue
        k_out += 1
        bs = np.array([p[0] for p in t], float)
        a_t = np.array([p[1] for p in t], float)
        c_t = np.array([p[2] for p in t], float)
        all_b = np.arange(int(bs[0]), int(bs[-1]) + 1)
        a_i = np.interp(all_b, bs, a_t)
        c_i = np.interp(all_b, bs, c_t)
        # One block beyond each end: the bone usually continues to the field edge, and
        # the edge fit keeps only rows where both cortices are really there.
        ext_b = np.concatenate([[all_b[0] - 1], all_b, [all_b[-1] + 1]])
        ext_a = np.concatenate([[a_i[0]], a_i, [a_i[-1]]])
        ext_c = np.concatenate([[c_i[0]], c_i, [c_i[-1]]])
        for b, a, c in zip(ext_b, ext_a, ext_c):
            if b < 0 or b >= nb:
                continue
            band[b * block : min((b + 1) * block, h), max(int(a) - margin, 0) : int(c) + margin + 1] = k_out
    if k_out == 0:
        return result
    # Back to the image grid: forward map of the frame.
    fwd = cv2.invertAffineTransform(m)
    img = cv2.warpAffine(band.astype(np.float32), fwd, (cols, rows),
                         flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP, borderValue=0)
    out = img.astype(np.int32)
    out[~valid] = 0
    if f > 1:
        out = cv2.resize(out.astype(np.float32), (cols_in, rows_in),
                         interpolation=cv2.INTER_NEAREST).astype(np.int32)
    return out
