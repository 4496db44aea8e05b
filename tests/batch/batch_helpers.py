"""Helpers of the batch tests: small hand-made DICOM files and the stub analyzer's name.

Kept out of ``conftest.py`` and under a unique module name so that importing them never
depends on which test folder's ``conftest`` Python found first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
STUB = "_stub_pipeline:analyze"

# Broken real-world files (../shared/dicom) that must each become one error row.
BROKEN_SHARED = (
    "fo-dicom/GH177_CT1_undefined_length_corrupt.dcm",
    "fo-dicom/DBT_Hologic_GH1376.dcm",
    "pydicom-data/emri_small_jpeg_2k_lossless_too_short.dcm",
    "nema_wg04/RG2_JPLY.dcm",
)


def make_dicom(path: Path, seed: int, shape: tuple[int, int] = (48, 64), *,
               spacing_mm: float | None = 0.15) -> Path:
    """Write a small uncompressed MONOCHROME2 DX file with seeded pixels."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 4096, size=shape, dtype=np.uint16)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[f"hoimg-test-{seed}"])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "DX"
    ds.PatientName = "Doe^Jane"  # must never reach any output
    ds.Rows, ds.Columns = shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 0
    if spacing_mm is not None:
        ds.PixelSpacing = [spacing_mm, spacing_mm]
    ds.PixelData = pixels.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path
