"""distinv: the library behind the book on neural distribution invention."""

from distinv.seed import seed_everything

__version__ = "0.1.0"
__all__ = ["seed_everything", "__version__"]
