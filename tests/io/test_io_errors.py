"""Bad input: clear one-line HoimgErrors, refused before decoding, never a crash.

Includes every ``*.dcm`` bundled with pydicom (globbed directly: get_testdata_files() would
try the network) and a hypothesis fuzzer that truncates, corrupts and splices valid files.
"""

from __future__ import annotations

import struct
import tempfile
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from _io_factory import dataset, grey12, save, write_dicom
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hoimg import errors
from hoimg.config import AnalysisConfig, LoadConfig
from hoimg.io import load

PYDICOM_TEST_FILES = sorted((Path(pydicom.__file__).parent / "data" / "test_files").rglob("*.dcm"))


def _one_line_naming(exc: errors.HoimgError, path: Path) -> None:
    text = str(exc)
    assert "\n" not in text and text.startswith(f"{path}: ")


def test_declared_size_over_the_limit_is_refused_before_decoding(tmp_path: Path) -> None:
    ds = dataset(grey12((8, 8)))
    ds.Rows, ds.Columns = 20000, 20000  # 400 MP declared, 128 bytes present
    path = save(ds, tmp_path / "huge.dcm")
    with pytest.raises(
        errors.ImageTooLargeError, match=r"'20000 x 20000' is 400 megapixels"
    ) as info:
        load(path)
    _one_line_naming(info.value, path)
    small = write_dicom(tmp_path / "small.dcm", grey12((48, 64)))
    with pytest.raises(errors.ImageTooLargeError, match="max_megapixels"):
        load(small, config=LoadConfig(max_megapixels=0.001))
    with pytest.raises(errors.ImageTooLargeError):
        load(small, config=AnalysisConfig().replace(load={"max_megapixels": 0.001}))
    assert load(small, config=LoadConfig(max_megapixels=0.01)).shape == (48, 64)


def test_pixel_data_shorter_than_declared(tmp_path: Path) -> None:
    ds = dataset(grey12((48, 64)))
    ds.PixelData = ds.PixelData[:1000]
    path = save(ds, tmp_path / "short.dcm")
    with pytest.raises(
        errors.TruncatedPixelDataError, match=r"holds 1000 bytes .* need 6144"
    ) as info:
        load(path)
    _one_line_naming(info.value, path)
    full = write_dicom(tmp_path / "full.dcm")
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(full.read_bytes()[:-3000])  # file truncated inside Pixel Data
    with pytest.raises(errors.TruncatedPixelDataError):
        load(cut)


def test_rows_missing_and_empty_dataset(tmp_path: Path) -> None:
    ds = dataset()
    del ds.Rows
    with pytest.raises(errors.CorruptFileError, match=r"\(0028,0010\) Rows is missing"):
        load(save(ds, tmp_path / "norows.dcm"))
    meta_only = tmp_path / "meta_only.dcm"
    full = write_dicom(tmp_path / "full.dcm").read_bytes()
    group2_len = struct.unpack_from("<I", full, 132 + 8)[0]
    meta_only.write_bytes(full[: 132 + 12 + group2_len])  # preamble + file meta, no dataset
    with pytest.raises(errors.CorruptFileError, match="no DICOM data elements"):
        load(meta_only)


def test_pathological_nesting_becomes_a_corrupt_file_error(tmp_path: Path) -> None:
    # Implicit VR: (0008,1115) SQ, undefined length, one item of undefined length, nested
    # 20,000 times -- enough to exhaust Python's recursion limit inside pydicom.
    level = b"\x08\x00\x15\x11\xff\xff\xff\xff" + b"\xfe\xff\x00\xe0\xff\xff\xff\xff"
    head = b"\x08\x00\x16\x00\x06\x00\x00\x001.2.3\x00"
    path = tmp_path / "deep.dcm"
    path.write_bytes(head + level * 20000)
    with pytest.raises(errors.CorruptFileError) as info:
        load(path)
    _one_line_naming(info.value, path)


def test_codestream_declaring_another_size_is_refused(tmp_path: Path) -> None:
    path = write_dicom(tmp_path / "j.dcm", grey12((48, 64)), syntax="jpeg_lossless_sv1")
    ds = pydicom.dcmread(path)
    ds.Rows, ds.Columns = 480, 640  # the JPEG stream still says 48 x 64
    with pytest.raises(errors.CorruptFileError, match="declares 48 x 64 pixels"):
        load(save(ds, tmp_path / "lie.dcm"))


@pytest.mark.parametrize("path", PYDICOM_TEST_FILES, ids=lambda p: p.name)
def test_every_pydicom_test_file_loads_or_raises_a_hoimg_error(path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            img = load(path)
        except errors.MultiFrameError:
            img = load(path, frame=0)
        except errors.HoimgError as exc:
            _one_line_naming(exc, path)
            return
    assert img.pixels.ndim == 2 and img.pixels.dtype == np.float32
    assert np.isfinite(img.pixels).all()
    # the only warning hoimg itself gives on these files is the documented colour one
    assert all("converted to grey" in str(w.message) for w in caught)
    assert ("rgb_converted" in img.flags) == bool(caught)


def test_pydicom_test_files_were_found() -> None:
    assert len(PYDICOM_TEST_FILES) > 50


# --- fuzzing -----------------------------------------------------------------------------


def _fuzz_bases() -> list[bytes]:
    folder = Path(tempfile.mkdtemp(prefix="hoimg-io-fuzz-"))
    out = []
    for syntax in ("uncompressed", "rle", "jpeg_lossless_sv1", "jpegls"):
        path = write_dicom(
            folder / f"{syntax}.dcm",
            grey12((24, 32), seed=5),
            syntax=syntax,
            PixelSpacing=[0.1, 0.1],
            WindowCenter=2000,
            WindowWidth=1000,
        )
        out.append(path.read_bytes())
    return out


FUZZ_BASES = _fuzz_bases()
_MEMORY_LIMIT = 16 * 1024 * 1024  # the files are < 3 KB; anything near this is a lie believed


@st.composite
def mutated_files(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(FUZZ_BASES)))
    for _ in range(draw(st.integers(0, 6))):
        pos = draw(st.integers(0, len(data) - 1))
        data[pos] = draw(st.integers(0, 255))
    if draw(st.booleans()):  # splice a chunk of another file in (lengths, tags, values)
        other = draw(st.sampled_from(FUZZ_BASES))
        start = draw(st.integers(0, len(other) - 1))
        chunk = other[start : start + draw(st.integers(1, 64))]
        at = draw(st.integers(0, len(data)))
        data[at : at + draw(st.integers(0, len(chunk)))] = chunk
    if draw(st.booleans()):  # overwrite 4 bytes with a huge length / size
        pos = draw(st.integers(128, len(data) - 4))
        data[pos : pos + 4] = draw(
            st.sampled_from([b"\xff\xff\xff\xfe", b"\xff\xff\x00\x00", b"\x00\x00\x10\x00"])
        )
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # seeded: the same examples on every run
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=mutated_files())
def test_fuzzed_files_only_raise_hoimg_errors_with_bounded_memory(
    tmp_path_factory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("fuzz", numbered=True) / "f.dcm"
    path.write_bytes(data)
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            try:
                img = load(path)
            except errors.MultiFrameError:
                img = load(path, frame=0)
        assert img.pixels.ndim == 2
    except errors.HoimgError as exc:
        assert "\n" not in str(exc)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < _MEMORY_LIMIT
