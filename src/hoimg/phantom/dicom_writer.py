"""DICOM output of phantoms: CR / DX objects with realistic, synthetic tags.

Deterministic: every UID is derived from (seed, index) and no timestamp is written, so the
same case gives identical bytes. Pixel data are encoded in one of six transfer syntaxes;
every one round-trips bit-exactly through pydicom (see tests/phantom/test_dicom.py).
"""

from __future__ import annotations

import hashlib

import numpy as np

from ..radiograph import pseudonymous_id

_TS_UIDS = {
    "explicit_vr_le": "1.2.840.10008.1.2.1",
    "implicit_vr_le": "1.2.840.10008.1.2",
    "rle": "1.2.840.10008.1.2.5",
    "jpeg_ls": "1.2.840.10008.1.2.4.80",
    "jpeg2000": "1.2.840.10008.1.2.4.90",
    "jpeg_lossless_sv1": "1.2.840.10008.1.2.4.70",
}
_SOP_CLASS = {
    "CR": "1.2.840.10008.5.1.4.1.1.1",  # Computed Radiography Image Storage
    "DX": "1.2.840.10008.5.1.4.1.1.1.1",  # Digital X-Ray Image Storage - For Presentation
}
_MANUFACTURERS = ("HOIMG-SIM ACME", "HOIMG-SIM RADIANT", "HOIMG-SIM NORTHSTAR")


def _uid(seed: int, index: int, what: str) -> str:
    """A fixed UID under the UUID root 2.25: the first 128 bits of a SHA-256 of the inputs."""
    digest = hashlib.sha256(f"hoimg-phantom/{seed}/{index}/{what}".encode()).digest()
    return "2.25." + str(int.from_bytes(digest[:16], "big"))


def _ds_str(value: float, digits: int) -> str:
    s = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return s or "0"


def dicom_params(params: dict, stored: np.ndarray, *, seed: int, index: int) -> dict:
    """Tag values for a rendered case, plus the spacing and window a loader should find."""
    mag = float(params["magnification"])
    source = params["spacing_source"]
    rc = (float(params["spacing_mm"]), float(params["col_spacing_mm"]))
    ps = [_ds_str(x, 6) for x in rc]
    ips = [_ds_str(x * mag, 6) for x in rc]
    ermf = _ds_str(mag, 4)
    if source == "pixel_spacing":
        spacing = tuple(float(x) for x in ps)
    elif source == "imager_corrected":
        spacing = tuple(float(x) / float(ermf) for x in ips)
    else:
        spacing = tuple(float(x) for x in ips)
    proc = params["processing_params"]
    bits = proc.bits_stored
    maxv = 2**bits - 1
    slope, intercept = params["rescale"] or (1.0, 0.0)
    sample = stored[::8, ::8].astype(np.float64)
    lo, hi = np.percentile(sample, [1.0, 99.0])
    centre_stored = 0.5 * (lo + hi)
    width = max((hi - lo) * params["window_scale"] * abs(slope), 2.0)
    centre = slope * centre_stored + intercept
    if params["photometric"] == "MONOCHROME1":
        display_centre = slope * maxv + 2 * intercept - centre
    else:
        display_centre = centre
    sop_uid = _uid(seed, index, "sop")
    return {
        "transfer_syntax": params["transfer_syntax"],
        "transfer_syntax_uid": _TS_UIDS[params["transfer_syntax"]],
        "sop_class_uid": _SOP_CLASS[params["modality"]],
        "sop_instance_uid": sop_uid,
        "study_uid": _uid(seed, index, "study"),
        "series_uid": _uid(seed, index, "series"),
        "image_id": pseudonymous_id(sop_uid),
        "pixel_spacing": ps,
        "imager_pixel_spacing": ips,
        "magnification": ermf,
        "loader_spacing_mm": spacing,
        "window": (round(float(centre), 2), round(float(width), 2)),
        "display_window": (float(round(display_centre, 2)), float(round(width, 2))),
        "manufacturer": _MANUFACTURERS[(seed + index) % len(_MANUFACTURERS)],
        # many DX headers carry the detector-plane tags beside Pixel Spacing; a loader must
        # still prefer Pixel Spacing (side stream: no other draw moves)
        "also_imager_tags": bool(
            source == "pixel_spacing"
            and np.random.default_rng([params["noise_seed"], 3]).uniform() < 0.5
        ),
        "tags": {
            k: params[k]
            for k in (
                "study_date",
                "patient_id",
                "birth_date",
                "body_part",
                "view",
                "presentation_lut",
            )
        },
    }


def _encode_jpeg_lossless_sv1(arr: np.ndarray, bits: int) -> bytes:
    """JPEG Lossless, process 14, selection value 1 (first-order prediction), via
    libjpeg-turbo in imagecodecs; the JFIF APP0 segment is dropped (DICOM has no use for it)."""
    import imagecodecs

    data = bytes(imagecodecs.jpeg8_encode(arr, lossless=True, predictor=1, bitspersample=bits))
    if data[2:4] == b"\xff\xe0":
        seg = int.from_bytes(data[4:6], "big")
        data = data[:2] + data[4 + seg :]
    return data


def build_dataset(phantom):
    """A pydicom FileDataset for ``phantom`` (see module docstring)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.encaps import encapsulate
    from pydicom.uid import UID

    d = phantom.dicom
    t = phantom.truth
    stored = phantom.stored
    bits = int(t["bits_stored"])
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = d["sop_class_uid"]
    meta.MediaStorageSOPInstanceUID = d["sop_instance_uid"]
    meta.TransferSyntaxUID = UID(d["transfer_syntax_uid"])
    meta.ImplementationClassUID = UID(
        "1.2.826.0.1.3680043.10.1010.1"
    )  # fixed: no version drift in bytes
    meta.ImplementationVersionName = "HOIMG_PHANTOM"

    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["DERIVED", "PRIMARY"] if t["modality"] == "DX" else ["ORIGINAL", "PRIMARY"]
    ds.SOPClassUID = d["sop_class_uid"]
    ds.SOPInstanceUID = d["sop_instance_uid"]
    ds.StudyDate = d["tags"]["study_date"]
    ds.ContentDate = d["tags"]["study_date"]
    ds.StudyTime = "101500"
    ds.AccessionNumber = "A" + d["tags"]["patient_id"][2:]
    ds.Modality = t["modality"]
    ds.Manufacturer = d["manufacturer"]
    ds.InstitutionName = "HOIMG SYNTHETIC HOSPITAL"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "XR " + d["tags"]["body_part"]
    ds.SeriesDescription = d["tags"]["view"]
    ds.PatientName = t["patient_name"]
    ds.PatientID = d["tags"]["patient_id"]
    ds.PatientBirthDate = d["tags"]["birth_date"]
    ds.PatientSex = "O"
    ds.BodyPartExamined = d["tags"]["body_part"]
    ds.ViewPosition = d["tags"]["view"] if d["tags"]["view"] != "LATERAL" else "LL"
    ds.StudyInstanceUID = d["study_uid"]
    ds.SeriesInstanceUID = d["series_uid"]
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = int(t["index"]) + 1
    ds.PatientOrientation = ""
    if t["modality"] == "DX":
        ds.PresentationIntentType = "FOR PRESENTATION"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = t["photometric"]
    ds.Rows, ds.Columns = stored.shape
    ds.BitsAllocated = 16
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    source = t["spacing_source"]
    if source == "pixel_spacing":
        ds.PixelSpacing = list(d["pixel_spacing"])
        if d["also_imager_tags"]:
            ds.ImagerPixelSpacing = list(d["imager_pixel_spacing"])
            ds.EstimatedRadiographicMagnificationFactor = d["magnification"]
    else:
        ds.ImagerPixelSpacing = list(d["imager_pixel_spacing"])
        if source == "imager_corrected":
            ds.EstimatedRadiographicMagnificationFactor = d["magnification"]
    if t["rescale"] is not None:
        ds.RescaleSlope = _ds_str(t["rescale"][0], 6)
        ds.RescaleIntercept = _ds_str(t["rescale"][1], 6)
        ds.RescaleType = "US"
    ds.WindowCenter = _ds_str(d["window"][0], 2)
    ds.WindowWidth = _ds_str(d["window"][1], 2)
    if d["tags"]["presentation_lut"] or t["modality"] == "DX":
        # DICOM DX: IDENTITY goes with MONOCHROME2, INVERSE with MONOCHROME1 -- both mean
        # "display as the photometric interpretation says"; a loader inverts only once.
        ds.PresentationLUTShape = "INVERSE" if t["photometric"] == "MONOCHROME1" else "IDENTITY"
    ds.BurnedInAnnotation = "YES" if t["burned_in_text"] else "NO"
    ds.LossyImageCompression = "00"

    ts = d["transfer_syntax"]
    arr = np.ascontiguousarray(stored, dtype=np.uint16)
    if ts in ("explicit_vr_le", "implicit_vr_le"):
        ds.PixelData = arr.tobytes()
        ds["PixelData"].VR = "OW"
    elif ts == "jpeg_lossless_sv1":
        ds.PixelData = encapsulate([_encode_jpeg_lossless_sv1(arr, bits)])
        ds["PixelData"].VR = "OB"
        ds["PixelData"].is_undefined_length = True
    else:
        plugin = {"rle": "pylibjpeg", "jpeg_ls": "pyjpegls", "jpeg2000": "pylibjpeg"}[ts]
        # pydicom compresses only a dataset that is still uncompressed
        ds.file_meta.TransferSyntaxUID = UID("1.2.840.10008.1.2.1")
        ds.PixelData = arr.tobytes()
        ds.compress(
            UID(d["transfer_syntax_uid"]), encoding_plugin=plugin, generate_instance_uid=False
        )
    return ds


def save_dataset(ds, path) -> None:
    """Write ``ds`` as a DICOM Part 10 file with its declared transfer syntax."""
    ds.save_as(path, enforce_file_format=True)
