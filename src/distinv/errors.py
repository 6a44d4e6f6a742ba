"""The one exception type the CLI reports as a one-line error."""


class DistinvError(ValueError):
    """Bad input from a user: an unknown chapter, parameter or profile, a wrong type, a bad file."""
