"""A stand-in for ``hoimg.pipeline.analyze`` used by the batch tests.

The batch machinery (pool, journal, resume, formats, Dask) is tested against this stub so
the tests are fast and do not depend on the accuracy of the real pipeline. Its results are
a deterministic function of the pixels, with awkward floats (many digits, NaN) to exercise
byte-identical round trips. File names steer failure modes:

- ``*crash*``: the worker process kills itself with SIGKILL (a segfault stand-in);
- ``*hang*``: the analysis sleeps far beyond any test timeout.
"""

from __future__ import annotations

import math
import os
import signal
import time
from types import SimpleNamespace

import numpy as np

from hoimg.errors import CorruptFileError, NotDicomError
from hoimg.radiograph import Radiograph, pseudonymous_id


def load(path: str) -> Radiograph:
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(path)
    except InvalidDicomError as exc:
        raise NotDicomError("not a DICOM file", path=path) from exc
    except Exception as exc:
        raise CorruptFileError(f"cannot parse DICOM header: {exc}", path=path) from exc
    try:
        px = ds.pixel_array.astype(np.float32)
    except Exception as exc:
        raise CorruptFileError(f"cannot decode pixel data: {exc}", path=path) from exc
    if px.ndim != 2:
        raise CorruptFileError(f"expected one 2-D frame, got shape {px.shape}", path=path)
    spacing = ds.get("PixelSpacing")
    sp = (float(spacing[0]), float(spacing[1])) if spacing else None
    return Radiograph(
        pixels=px,
        spacing_mm=sp,
        spacing_source="pixel_spacing" if sp else "unknown",
        image_id=pseudonymous_id(str(ds.SOPInstanceUID)),
        meta={"photometric": str(ds.PhotometricInterpretation),
              "transfer_syntax": str(ds.file_meta.TransferSyntaxUID)},
        source=path,
    )


def _lesion(i: int, px: np.ndarray) -> SimpleNamespace:
    h, w = px.shape
    mean = float(px.mean())
    r, c = (h * (i + 1)) / 7.0, (w * (i + 2)) / 9.0
    p_ho = (mean % 1.0) / 3.0 + 0.1
    probs = {"heterotopic_ossification": p_ho, "parosteal_osteosarcoma": 0.5 - p_ho / 2,
             "indeterminate": 0.5 - p_ho / 2}
    s = np.linspace(0.05, 0.95, 10)
    return SimpleNamespace(
        id=i + 1, centroid_rc=(r, c), bbox_rc=(int(r) - 3, int(c) - 3, int(r) + 4, int(c) + 4),
        area_mm2=mean / (i + 3), length_mm=math.pi * (i + 1), width_mm=math.e / (i + 1),
        label="heterotopic_ossification" if i % 2 == 0 else "indeterminate",
        probabilities=probs, zonal_pattern="peripheral", zonal_index=1.0 / 3.0,
        rim_core_ratio=2.0 ** 0.5, peak_position=0.9, rim_continuity=0.7,
        cleft="complete" if i % 2 == 0 else "not_applicable",
        cleft_width_mm=1.25 if i % 2 == 0 else math.nan, cleft_fraction=0.95,
        attachment_mm=0.0, distance_to_cortex_mm=math.nan if i % 2 else 1.5,
        flags=("small", "near_image_edge") if i else (),
        profile=SimpleNamespace(s=s, values=s * mean / 1000.0, counts=np.arange(10) + i),
    )


def analyze(source, *, pixel_spacing_mm=None, config=None):
    name = os.path.basename(str(source))
    if "crash" in name:
        os.kill(os.getpid(), signal.SIGKILL)
    if "hang" in name:
        time.sleep(600)
    image = load(source)
    n = 1 + int(image.pixels.sum()) % 3

    def overlay_png():
        return b"\x89PNG\r\n\x1a\n" + image.image_id.encode()

    return SimpleNamespace(image=image, lesions=tuple(_lesion(i, image.pixels) for i in range(n)),
                           overlay_png=overlay_png)


def slow_analyze(source, *, pixel_spacing_mm=None, config=None):
    """:func:`analyze` after a pause, so a test can kill a run part-way."""
    time.sleep(float(os.environ.get("HOIMG_STUB_DELAY_S", "0.3")))
    return analyze(source, pixel_spacing_mm=pixel_spacing_mm, config=config)
