"""hoimg.load against the fastest decoder available, per transfer syntax, in one run.

A synthetic 12-bit DX (3000 x 3000; ``--quick``: 768 x 768) with smooth structure and
noise is written as uncompressed, RLE, JPEG Lossless SV1, JPEG-LS, JPEG 2000 and HTJ2K
DICOM files in a temporary folder. For each file, from the path:

* pydicom default: ``pydicom.pixels.pixel_array(dcmread(path))`` (pydicom's own plug-in
  choice);
* every other route: ``dcmread(path)`` then one decoder (each pydicom plug-in, imagecodecs
  on the encapsulated frame, or ``np.frombuffer``); the fastest is reported;
* fastest + float32: the fastest route followed by ``astype(np.float32)``, the floor for
  any loader returning float32 analysis pixels (it matters only for uncompressed data);
* hoimg: ``hoimg.io.load(path)`` (which also converts to float32 analysis units).

Each timing is the median of ``--repeat`` runs, interleaved so that load on the shared
machine affects all routes alike. Prints a markdown table with ratio = hoimg / fastest
(medians), plus the same ratio from minimum times, which is steadier on a busy machine.

Usage: ``python benchmarks/bench_io.py [--quick] [--repeat N]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable

import numpy as np


def _routes(path: str, syntax: str) -> dict[str, Callable[[], np.ndarray]]:
    """name -> zero-argument function decoding ``path`` from scratch by that route."""
    import imagecodecs
    from pydicom import dcmread
    from pydicom.encaps import get_frame
    from pydicom.pixels import get_decoder, pixel_array

    ds0 = dcmread(path)
    uid = ds0.file_meta.TransferSyntaxUID
    routes: dict[str, Callable[[], np.ndarray]] = {}
    if not uid.is_encapsulated:

        def native() -> np.ndarray:
            ds = dcmread(path)
            return np.frombuffer(ds.PixelData, dtype="<u2").reshape(ds.Rows, ds.Columns)

        routes["np.frombuffer"] = native
        return routes
    if syntax == "rle":
        from rle.utils import decode_pixel_data

        def via_rle() -> np.ndarray:
            ds = dcmread(path)
            frame = get_frame(ds.PixelData, 0, number_of_frames=1)
            raw = decode_pixel_data(
                frame, version=2, rows=ds.Rows, columns=ds.Columns, bits_allocated=16
            )
            return np.frombuffer(raw, "<u2").reshape(ds.Rows, ds.Columns)

        routes["rle.decode_pixel_data"] = via_rle
    for plugin in get_decoder(uid).available_plugins:
        routes[f"pydicom:{plugin}"] = lambda p=plugin: pixel_array(dcmread(path), decoding_plugin=p)
    codecs = {
        "jpeg_lossless_sv1": ("jpeg8", "ljpeg"),
        "jpegls": ("jpegls",),
        "j2k": ("jpeg2k",),
        "htj2k": ("jpeg2k", "htj2k"),
    }.get(syntax, ())
    for codec in codecs:
        decode = getattr(imagecodecs, f"{codec}_decode")

        def via_imagecodecs(decode=decode) -> np.ndarray:
            ds = dcmread(path)
            return decode(get_frame(ds.PixelData, 0, number_of_frames=1))

        routes[f"imagecodecs.{codec}_decode"] = via_imagecodecs
    return routes


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000.0 * statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="768 x 768 image, 3 repeats (CI smoke run)"
    )
    parser.add_argument(
        "--repeat", type=int, default=None, help="runs per timing (default 7, quick 3)"
    )
    args = parser.parse_args(argv)
    shape = (768, 768) if args.quick else (3000, 3000)
    repeat = args.repeat or (3 if args.quick else 7)
    warnings.simplefilter("ignore")

    from pydicom import dcmread
    from pydicom.pixels import pixel_array

    from hoimg.io import _testing, load

    image = _testing.synthetic_radiograph(shape, bits=12, seed=0)
    base = _testing.make_dataset(image, bits_stored=12, PixelSpacing=[0.15, 0.15])
    rows = []
    with tempfile.TemporaryDirectory(prefix="hoimg-bench-io-") as tmp:
        for syntax in _testing.SYNTAXES:
            path = os.path.join(tmp, f"{syntax}.dcm")
            _testing.write(_testing.encode(base, syntax), path)
            routes = _routes(path, syntax)
            # correctness first: every route and hoimg must reproduce the image exactly
            for name, fn in routes.items():
                if not np.array_equal(np.asarray(fn()), image):
                    print(f"warning: route {name} is not bit-exact for {syntax}", file=sys.stderr)
            got = load(path)
            assert np.array_equal(got.pixels, image.astype(np.float32)), syntax
            funcs = {
                "default": lambda p=path: pixel_array(dcmread(p)),
                "hoimg": lambda p=path: load(p),
                **routes,
            }
            # The floor for any loader that returns float32: fastest route + one conversion.
            floor_name = min(routes, key=lambda k: _median_ms(routes[k], 3))
            funcs["floor"] = lambda f=routes[floor_name]: np.asarray(f()).astype(np.float32)
            for fn in funcs.values():  # warm-up: imports, page cache
                fn()
            samples: dict[str, list[float]] = {k: [] for k in funcs}
            for _ in range(repeat):  # interleave so background load hits all routes alike
                for name, fn in funcs.items():
                    samples[name].append(_median_ms(fn, 1))
            med = {k: statistics.median(v) for k, v in samples.items()}
            best = {k: min(v) for k, v in samples.items()}
            fastest_name = min(routes, key=lambda k: med[k])
            rows.append(
                (
                    syntax,
                    os.path.getsize(path) / 1e6,
                    med["default"],
                    fastest_name,
                    med[fastest_name],
                    med["hoimg"],
                    got.meta.get("decoder"),
                    med["floor"],
                    best["hoimg"] / min(best[k] for k in routes),
                )
            )
    print(f"\nhoimg.load vs fastest decoder, {shape[0]}x{shape[1]} 12-bit DX, median of {repeat}\n")
    print(
        "| syntax | file MB | pydicom default ms | fastest route | fastest ms "
        "| fastest + float32 ms | hoimg.load ms | hoimg route | hoimg/fastest "
        "| same, best-of |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for syntax, mb, default, fname, fast, hoimg_ms, route, floor, best_ratio in rows:
        print(
            f"| {syntax} | {mb:.1f} | {default:.1f} | {fname} | {fast:.1f} | {floor:.1f} | "
            f"{hoimg_ms:.1f} | {route} | {hoimg_ms / fast:.2f}x | {best_ratio:.2f}x |"
        )
    print(
        "\nratios are medians of interleaved runs; 'best-of' compares minimum times, which "
        "is steadier when other processes share the cores"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
