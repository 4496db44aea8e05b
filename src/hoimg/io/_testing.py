"""Synthetic DICOM files for the loader's tests and ``benchmarks/bench_io.py``.

Not part of the public API. Builds a radiograph-like 12-bit image (smooth anatomy-like
structure plus noise, so compressors see realistic entropy) and writes it as DICOM in
each transfer syntax the loader routes: uncompressed, RLE, JPEG Lossless SV1, JPEG-LS,
JPEG 2000 and HTJ2K.
"""

from __future__ import annotations

import numpy as np

# syntax name -> transfer syntax UID
SYNTAXES = {
    "uncompressed": "1.2.840.10008.1.2.1",
    "rle": "1.2.840.10008.1.2.5",
    "jpeg_lossless_sv1": "1.2.840.10008.1.2.4.70",
    "jpegls": "1.2.840.10008.1.2.4.80",
    "j2k": "1.2.840.10008.1.2.4.90",
    "htj2k": "1.2.840.10008.1.2.4.201",
}


def synthetic_radiograph(
    shape: tuple[int, int] = (3000, 3000), *, bits: int = 12, seed: int = 0
) -> np.ndarray:
    """A (rows, cols) uint16 image with bone-like bands, soft tissue and noise.

    Parameters
    ----------
    shape : (int, int)
        (rows, cols).
    bits : int
        Bits stored; values span most of 0 .. 2**bits - 1.
    seed : int
        Seed of the noise.
    """
    rng = np.random.default_rng(seed)
    rows, cols = shape
    r = np.linspace(-1.0, 1.0, rows, dtype=np.float32)[:, None]
    c = np.linspace(-1.0, 1.0, cols, dtype=np.float32)[None, :]
    tissue = np.exp(-((c / 0.7) ** 2)) * (0.8 + 0.2 * np.cos(3 * r))
    bone = np.clip(1.0 - np.abs(c + 0.1 * np.sin(2 * r)) / 0.18, 0.0, 1.0) ** 0.5
    lesion = np.exp(-(((r - 0.2) / 0.12) ** 2 + ((c - 0.35) / 0.1) ** 2))
    image = 0.35 * tissue + 0.45 * bone + 0.2 * lesion
    full = (1 << bits) - 1
    noisy = image * 0.9 * full + rng.normal(0.0, 0.004 * full, size=shape).astype(np.float32)
    return np.clip(np.rint(noisy), 0, full).astype(np.uint16)


def make_dataset(
    pixels: np.ndarray,
    *,
    bits_stored: int = 12,
    photometric: str = "MONOCHROME2",
    modality: str = "DX",
    sop_instance_uid: str = "1.2.826.0.1.3680043.8.498.1",
    **tags: object,
):
    """An Explicit VR Little Endian DX dataset (with file meta) holding ``pixels``.

    Extra keyword arguments are set as DICOM keywords (e.g. ``PixelSpacing=[0.1, 0.1]``).
    """
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    pixels = np.ascontiguousarray(pixels)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    ds.file_meta.MediaStorageSOPInstanceUID = sop_instance_uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    ds.SOPInstanceUID = sop_instance_uid
    ds.PatientName = "SYNTHETIC^PHANTOM"
    ds.PatientID = "SYNTH-0001"
    ds.StudyDate = "20260101"
    ds.Modality = modality
    ds.Rows, ds.Columns = pixels.shape[:2]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 8 * pixels.dtype.itemsize
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if pixels.dtype.kind == "i" else 0
    for keyword, value in tags.items():
        setattr(ds, keyword, value)
    ds.PixelData = pixels.tobytes()
    return ds


def encode(ds, syntax: str):
    """Return a copy of uncompressed ``ds`` encoded in ``syntax`` (a key of SYNTAXES)."""
    import copy

    from pydicom.encaps import encapsulate
    from pydicom.uid import UID

    out = copy.deepcopy(ds)
    if syntax == "uncompressed":
        return out
    uid = UID(SYNTAXES[syntax])
    arr = np.frombuffer(ds.PixelData, dtype=f"<u{ds.BitsAllocated // 8}").reshape(
        ds.Rows, ds.Columns
    )
    if syntax in ("rle", "jpegls", "j2k"):
        plugin = {"rle": "pylibjpeg", "jpegls": "pyjpegls", "j2k": "pylibjpeg"}[syntax]
        out.compress(uid, arr, encoding_plugin=plugin)
        return out
    import imagecodecs

    if syntax == "jpeg_lossless_sv1":
        frame = imagecodecs.jpeg8_encode(
            arr, lossless=True, predictor=1, bitspersample=int(ds.BitsStored)
        )
    elif syntax == "htj2k":
        frame = imagecodecs.htj2k_encode(arr, reversible=True)
    else:
        raise ValueError(f"unknown syntax {syntax!r}; use one of {sorted(SYNTAXES)}")
    out.PixelData = encapsulate([bytes(frame)])
    out["PixelData"].is_undefined_length = True
    out["PixelData"].VR = "OB"
    out.file_meta.TransferSyntaxUID = uid
    return out


def write(ds, path) -> None:
    """Write ``ds`` as a DICOM Part 10 file (preamble + file meta)."""
    ds.save_as(path, enforce_file_format=True)
