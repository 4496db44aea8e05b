"""The registry of flags: short names attached to images and lesions, with their meaning.

Every stage draws its flags from here, and the tables and the overlay legend explain them
from here, so a flag means the same thing everywhere.
"""

from __future__ import annotations

from types import MappingProxyType

FLAGS = MappingProxyType(
    {
        # image-level: spacing provenance
        "spacing_detector_plane": "spacing is Imager Pixel Spacing at the detector; sizes are "
        "overestimated by the geometric magnification (typically 5-15%)",
        "spacing_unknown": "no usable pixel spacing; sizes assume a typical detector pitch",
        "spacing_invalid": "a spacing tag was present but zero, negative or not finite",
        "spacing_anisotropic": "row and column spacing differ by more than 1%",
        "rgb_converted": "colour input was converted to grey",
        "display_window_untrusted": "the header window lies outside the stored pixel range",
        "burned_in_annotation": "(0028,0301) Burned In Annotation is YES: the pixels may show "
        "identifiers, so overlays hide them unless report.show_burned_in is set",
        "modality_out_of_scope": "the DICOM Modality (CT, MR, MG, ...) is not a projection "
        "radiograph of the skeleton: nothing on it is called HO or POS",
        "no_bone_found": "no bone was found, so no cleft can be measured",
        # lesion-level: shape and position
        "small": "smaller than the smallest lesion the signs are defined for",
        "linear": "long and thin, like vascular calcification",
        "tubular": "its dense part is a straight band of constant width, like a calcified "
        "vessel's walls",
        "round_small": "small and round, like a phlebolith",
        "punctate": "a cluster-sized dot of mineral",
        "near_image_edge": "touches the image or collimation edge, so it may be cut off",
        "touches_bone": "in contact with the cortex over part of its outline",
        "low_contrast": "barely denser than the surrounding soft tissue",
        "few_pixels_profile": "too few pixels for a stable radial profile",
        "support_regrown": "profiled on its mask grown into its faint edge (it did not read peripheral)",
        "cleft_not_measurable": "no cortex within reach, so no cleft was measured",
    }
)


def describe(flag: str) -> str:
    """Return the meaning of ``flag``.

    Raises
    ------
    KeyError
        If ``flag`` is not registered; every stage must use registered flags only.
    """
    try:
        return FLAGS[flag]
    except KeyError:
        raise KeyError(f"unknown flag {flag!r}; register it in hoimg.flags.FLAGS") from None


def check(flags: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Validate flags against the registry and return them sorted and de-duplicated."""
    for f in flags:
        describe(f)
    return tuple(sorted(set(flags)))
