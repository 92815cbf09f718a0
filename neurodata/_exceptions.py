"""Exceptions raised by neurodata; each subclasses the built-in it refines."""


class ParamError(ValueError):
    """A stage or function parameter is unknown, missing or out of its valid range."""


class SchemaViolation(ValueError):
    """Data do not satisfy an artifact's contract (schemas/<artifact>.yaml)."""


class ArtifactNotBuilt(FileNotFoundError):
    """An artifact was asked for that has not been built (run its stage or `dvc repro`)."""
