"""Benchmark of the profile stage: radial profiles + cleft scans of 50 lesions, 3000x3000.

Reports medians (ms) of, in the same run and on one core:

1. hoimg (``hoimg.profile.measure_lesions``: Numba kernels, bbox windows), with the default
   configuration, and again without support regrowth (``regrow_sigma=0``: the workload of
   issue 4's target; regrowth measures every lesion that does not read peripheral -- half
   of this scene -- a second time);
2. a plain NumPy/SciPy version of the same measurement (per-lesion
   ``scipy.ndimage.distance_transform_edt`` + ``np.bincount`` for the profiles, a vectorised
   nearest-pixel ray march + ``map_coordinates(order=1)`` for the cleft normals);
3. photutils' ``RadialProfile`` over the same lesions (profiles only), if installed
   (the ``bench`` extra, which ``make bench`` installs; not a hoimg dependency);
4. the memory floor: one pass over the same pixels (sum of every lesion window).

and the ratios of 2-4 to 1, as median wall time and median CPU time. Usage::

    NUMBA_CACHE_DIR=.venv/numba-cache .venv/bin/python benchmarks/bench_profile.py [--repeat 15]
"""

from __future__ import annotations

import os

# one core for every contender, set before numpy/numba load their thread pools
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from hoimg.config import ProfileConfig  # noqa: E402
from hoimg.profile import measure_lesions  # noqa: E402
from hoimg.profile._common import grow  # noqa: E402
from hoimg.profile.cleft import N_LATERAL, resample_edges  # noqa: E402
from hoimg.radiograph import Radiograph  # noqa: E402
from hoimg.segment import BoneModel, CortexEdge, LesionCandidate, LesionCandidates  # noqa: E402

SIZE = 3000
SPACING = 0.15
N_LESIONS = 50


def make_scene(seed: int = 0):
    """Two vertical bones with four straight cortex edges and 50 disc lesions (shells and
    centre-dense), a third of them within cleft reach of a cortex."""
    rng = np.random.default_rng(seed)
    image = rng.normal(1000.0, 8.0, (SIZE, SIZE)).astype(np.float32)
    bone = np.zeros((SIZE, SIZE), dtype=np.int32)
    edges = []
    for b, (c0, c1) in enumerate([(700, 1000), (1900, 2200)], start=1):
        bone[:, c0:c1] = b
        image[:, c0:c1] += 300.0
        rows = np.arange(0.0, SIZE)
        for col, sign in ((c0 - 0.5, -1.0), (c1 - 0.5, 1.0)):
            edges.append(CortexEdge(b, np.column_stack([rows, np.full(SIZE, col)]),
                                    np.tile([0.0, sign], (SIZE, 1)), np.full(SIZE, 3.0)))
    labels = np.zeros((SIZE, SIZE), dtype=np.int32)
    records = []
    rr, cc = np.mgrid[-130:131, -130:131]
    placed = 0
    while placed < N_LESIONS:
        radius = float(rng.uniform(30, 110))
        if placed % 3 == 0:  # near a cortex: 1-5 mm from an edge
            col_edge = float(rng.choice([699.5, 999.5, 1899.5, 2199.5]))
            side = -1 if col_edge in (699.5, 1899.5) else 1
            c = col_edge + side * (radius + rng.uniform(1, 5) / SPACING)
        else:
            c = float(rng.uniform(150, SIZE - 150))
        r = float(rng.uniform(150, SIZE - 150))
        ri, ci = int(round(r)), int(round(c))
        disc = rr**2 + cc**2 <= radius**2
        win = (slice(ri - 130, ri + 131), slice(ci - 130, ci + 131))
        if (labels[win] != 0).any() or (bone[win][disc] != 0).any():
            continue
        placed += 1
        r2 = (rr**2 + cc**2).astype(np.float64)
        chord = 2 * np.sqrt(np.clip(radius**2 - r2, 0, None))
        if placed % 2:
            wall = 0.2 * radius
            proj = chord - 2 * np.sqrt(np.clip((radius - wall) ** 2 - r2, 0, None))
        else:
            proj = np.clip(radius**2 - r2, 0, None) ** 1.5 / radius**2
        image[win] += (3.0 * proj).astype(np.float32)
        labels[win][disc] = placed
        rows, cols = np.nonzero(labels == placed)
        records.append(LesionCandidate(placed, (int(rows.min()), int(cols.min()),
                                                int(rows.max()) + 1, int(cols.max()) + 1),
                                       (float(rows.mean()), float(cols.mean())), int(disc.sum()),
                                       float(disc.sum()) * SPACING**2, 2 * radius * SPACING,
                                       2 * radius * SPACING))
    rg = Radiograph(image, spacing_mm=(SPACING, SPACING), spacing_source="user")
    return rg, BoneModel(labels=bone, edges=tuple(edges)), LesionCandidates(labels, tuple(records))


def numpy_version(rg, bone, cands, cfg: ProfileConfig):
    """Plain NumPy/SciPy: per-lesion EDTs + bincount, vectorised ray march + map_coordinates."""
    from scipy import ndimage as ndi

    image, labels, bmask = rg.pixels, cands.labels, bone.labels
    px = SPACING
    inner, outer = cfg.background_gap_mm / px, cfg.background_band_mm / px
    pad = int(math.ceil(outer)) + 1
    samples = resample_edges(bone, rg.spacing_mm, cfg.cleft_step_mm)
    out = []
    for rec in cands.records:
        r0, c0, r1, c1 = grow(rec.bbox_rc, pad, image.shape)
        img = image[r0:r1, c0:c1].astype(np.float64)
        lab = labels[r0:r1, c0:c1]
        inside = lab == rec.id
        d_in = ndi.distance_transform_edt(np.pad(inside, 1))[1:-1, 1:-1]
        d_out = ndi.distance_transform_edt(~inside)
        d = d_in[inside]
        s = 1.0 - d / d.max()
        k = np.minimum((s * cfg.n_bins).astype(np.int64), cfg.n_bins - 1)
        ri, ci = np.nonzero(inside)
        ang = np.arctan2(ri - ri.mean(), ci - ci.mean()) % (2 * np.pi)
        sec = np.minimum((ang / (2 * np.pi) * cfg.n_sectors).astype(np.int64), cfg.n_sectors - 1)
        flat = sec * cfg.n_bins + k
        n = cfg.n_bins * cfg.n_sectors
        sums = np.bincount(flat, weights=img[inside], minlength=n)
        counts = np.bincount(flat, minlength=n)
        band = (~inside) & (d_out > inner) & (d_out <= outer) & (lab == 0)
        band &= bmask[r0:r1, c0:c1] == 0
        background = np.median(img[band]) if band.any() else np.nan
        # cleft: normals near the lesion, nearest-pixel march every 0.5 px, then levels
        reach = cfg.cleft_reach_mm / px
        b = samples.base_rc
        near = ((b[:, 0] > rec.bbox_rc[0] - reach) & (b[:, 0] < rec.bbox_rc[2] + reach)
                & (b[:, 1] > rec.bbox_rc[1] - reach) & (b[:, 1] < rec.bbox_rc[3] + reach))
        gaps = np.empty(0)
        if near.any():
            base, nrm = b[near], samples.normal_rc[near]
            t = np.arange(0.0, reach, 0.5)
            pr = np.rint(base[:, 0, None] + t * nrm[:, 0, None]).astype(np.int64)
            pc = np.rint(base[:, 1, None] + t * nrm[:, 1, None]).astype(np.int64)
            ok = (pr >= 0) & (pc >= 0) & (pr < image.shape[0]) & (pc < image.shape[1])
            hit = np.zeros(pr.shape, dtype=bool)
            hit[ok] = labels[pr[ok], pc[ok]] == rec.id
            any_hit = hit.any(axis=1)
            t_hit = t[np.argmax(hit, axis=1)][any_hit]
            base, nrm = base[any_hit], nrm[any_hit]
            if t_hit.size:
                tt = np.arange(-cfg.cleft_cortex_mm / px, t_hit.max() + cfg.cleft_lesion_mm / px)
                offs = np.linspace(-1.0, 1.0, N_LATERAL)
                rows = (base[:, None, None, 0] + offs[None, :, None] * -nrm[:, None, None, 1]
                        + tt[None, None, :] * nrm[:, None, None, 0])
                cols = (base[:, None, None, 1] + offs[None, :, None] * nrm[:, None, None, 0]
                        + tt[None, None, :] * nrm[:, None, None, 1])
                prof = ndi.map_coordinates(image, [rows.ravel(), cols.ravel()], order=1,
                                           mode="nearest").reshape(rows.shape).mean(axis=1)
                gaps = t_hit * px
                _ = prof.min(axis=1)
        out.append((sums / np.maximum(counts, 1) - background, gaps))
    return out


def photutils_version(rg, cands):
    from photutils.profiles import RadialProfile

    out = []
    for rec in cands.records:
        r0, c0, r1, c1 = rec.bbox_rc
        data = rg.pixels[r0:r1, c0:c1]
        mask = cands.labels[r0:r1, c0:c1] != rec.id
        cy, cx = rec.centroid_rc[0] - r0, rec.centroid_rc[1] - c0
        rmax = 0.5 * max(r1 - r0, c1 - c0)
        edges = np.linspace(0, rmax, 11)
        out.append(RadialProfile(data, (cx, cy), edges, mask=mask).profile)
    return out


def memory_floor(rg, cands, cfg: ProfileConfig):
    pad = int(math.ceil(cfg.background_band_mm / SPACING)) + 1
    total = 0.0
    for rec in cands.records:
        r0, c0, r1, c1 = grow(rec.bbox_rc, pad, rg.shape)
        total += float(rg.pixels[r0:r1, c0:c1].sum())
    return total


def _median_ms(fn, repeat):
    """Median wall and CPU (process) time in ms; CPU time is the figure that survives a
    shared, busy machine (every contender is single-threaded and compute-bound)."""
    fn()  # warm-up (Numba cache load, allocator)
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return statistics.median(wall), statistics.median(cpu)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--quick", action="store_true", help="3 repeats, for a smoke run")
    args = ap.parse_args(argv)
    if args.quick:
        args.repeat = 3
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    except (AttributeError, OSError):
        pass
    cfg = ProfileConfig()
    rg, bone, cands = make_scene()
    res = measure_lesions(rg, bone, cands, config=cfg)
    n_scan = sum(c.category != "not_applicable" for _, c in res)
    pix = sum((r.bbox_rc[2] - r.bbox_rc[0]) * (r.bbox_rc[3] - r.bbox_rc[1]) for r in cands.records)
    print(f"scene: {SIZE}x{SIZE}, {len(cands)} lesions ({pix / 1e6:.2f} Mpx of boxes), "
          f"{n_scan} within cleft reach, {sum(c.n_normals for _, c in res)} normals")
    no_regrow = dataclasses.replace(cfg, regrow_sigma=0.0)
    n_regrown = sum("support_regrown" in p.flags for p, _ in res)
    rows = [("hoimg measure_lesions (numba)",
             _median_ms(lambda: measure_lesions(rg, bone, cands, config=cfg), args.repeat)),
            (f"  same, regrow_sigma=0 (default regrows {n_regrown})",
             _median_ms(lambda: measure_lesions(rg, bone, cands, config=no_regrow), args.repeat))]
    rows.append(("numpy/scipy version",
                 _median_ms(lambda: numpy_version(rg, bone, cands, cfg), max(3, args.repeat // 3))))
    try:
        import photutils  # noqa: F401

        rows.append(("photutils RadialProfile (profiles only)",
                     _median_ms(lambda: photutils_version(rg, cands), max(3, args.repeat // 3))))
    except ImportError:
        rows.append(("photutils RadialProfile (not installed)", (float("nan"), float("nan"))))
    rows.append(("memory floor (one pass over the windows)",
                 _median_ms(lambda: memory_floor(rg, cands, cfg), args.repeat)))
    base_wall, base_cpu = rows[0][1]
    print(f"load average: {os.getloadavg()[0]:.1f} (2 cores shared)")
    print(f"{'contender':45s} {'wall ms':>9s} {'x':>6s} {'cpu ms':>9s} {'x':>6s}")
    for name, (wall, cpu) in rows:
        print(f"{name:45s} {wall:9.2f} {wall / base_wall:6.2f} {cpu:9.2f} {cpu / base_cpu:6.2f}")


if __name__ == "__main__":
    main()
