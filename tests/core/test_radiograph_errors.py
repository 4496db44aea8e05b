import numpy as np
import pytest

from hoimg.errors import (
    CorruptFileError,
    HoimgError,
    InvalidInputError,
    MissingSpacingError,
    UnsupportedCodecError,
)
from hoimg.flags import FLAGS, check, describe
from hoimg.radiograph import Radiograph, pseudonymous_id


def test_errors_derive_from_builtins_and_are_one_line():
    err = CorruptFileError("header\nbroken  at 0x10", path="a/b.dcm")
    assert isinstance(err, ValueError) and isinstance(err, HoimgError)
    assert str(err) == "a/b.dcm: header broken at 0x10"
    assert isinstance(UnsupportedCodecError("x"), RuntimeError)


def test_radiograph_validates_and_freezes():
    px = np.zeros((4, 5), np.float32)
    rg = Radiograph(px, spacing_mm=(0.1, 0.2), spacing_source="pixel_spacing")
    assert rg.shape == (4, 5)
    assert rg.pixel_size_mm == pytest.approx(np.sqrt(0.02))
    with pytest.raises(ValueError):
        rg.pixels[0, 0] = 1  # read-only view
    assert len(rg.image_id) == 12
    with pytest.raises(InvalidInputError, match="float32"):
        Radiograph(np.zeros((4, 5)))
    with pytest.raises(InvalidInputError, match="positive"):
        Radiograph(px.copy(), spacing_mm=(0.0, 0.1), spacing_source="user")
    with pytest.raises(InvalidInputError, match="spacing_source"):
        Radiograph(px.copy(), spacing_source="guess")


def test_missing_spacing_says_how_to_fix():
    rg = Radiograph(np.zeros((2, 2), np.float32), source="x.png")
    with pytest.raises(MissingSpacingError, match=r"^x\.png: .*pixel_spacing_mm"):
        rg.require_spacing()


def test_pseudonymous_id_is_stable_and_not_the_uid():
    uid = "1.2.826.0.1.3680043.8.498.1"
    assert pseudonymous_id(uid) == pseudonymous_id(uid)
    assert uid not in pseudonymous_id(uid)
    assert pseudonymous_id(uid) != pseudonymous_id(uid + "2")


def test_flags_registry():
    assert check(["small", "linear", "small"]) == ("linear", "small")
    assert "phlebolith" in describe("round_small")
    with pytest.raises(KeyError, match="register it"):
        check(["not_a_flag"])
    assert all(isinstance(v, str) and v for v in FLAGS.values())
