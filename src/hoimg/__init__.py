"""hoimg: measure the signs that separate heterotopic ossification from parosteal
osteosarcoma on musculoskeletal radiographs.

>>> import hoimg
>>> res = hoimg.analyze("knee.dcm")          # doctest: +SKIP
>>> res.to_frame()                            # doctest: +SKIP

``import hoimg`` stays light: NumPy, pydicom, OpenCV, Numba, pandas and matplotlib are
imported only when a function needs them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# public name -> module that defines it (imported on first access)
_LAZY = {
    "analyze": "hoimg.pipeline",
    "Analysis": "hoimg.pipeline",
    "Lesion": "hoimg.pipeline",
    "load": "hoimg.io",
    "Radiograph": "hoimg.radiograph",
    "AnalysisConfig": "hoimg.config",
    "evaluate": "hoimg.evaluate",
}

__all__ = ["__version__", *_LAZY]

if TYPE_CHECKING:  # pragma: no cover  # for type checkers and IDEs only
    from .config import AnalysisConfig  # noqa: F401
    from .evaluate import evaluate  # noqa: F401
    from .io import load  # noqa: F401
    from .pipeline import Analysis, Lesion, analyze  # noqa: F401
    from .radiograph import Radiograph  # noqa: F401


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hoimg' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
