"""declutter: keep the main content of plain-text web page dumps.

>>> import declutter
>>> declutter.clean("")
''
"""

from declutter.cleaner import Cleaner, PageResult, clean
from declutter.errors import (
    DeclutterError,
    InputError,
    ModelError,
    OutputError,
    ParameterError,
    TrainingDataError,
    UsageError,
)
from declutter.model import LineModel, load_model

__version__ = "0.1.0"
__all__ = [
    "Cleaner",
    "DeclutterError",
    "InputError",
    "LineModel",
    "ModelError",
    "OutputError",
    "PageResult",
    "ParameterError",
    "TrainingDataError",
    "UsageError",
    "__version__",
    "clean",
    "load_model",
]
