"""Exceptions raised by neurodata: named for what failed, each subclassing the built-in it refines.

All of them derive from :class:`NeurodataError`: a problem with the input or the data, which
the command line reports in one line. Anything else is a bug and keeps its traceback.
"""


class NeurodataError(Exception):
    """Base of neurodata's named errors (bad input or damaged data, not a bug)."""


class ParamError(NeurodataError, ValueError):
    """A stage or function parameter is unknown, missing or out of its valid range."""


class SchemaViolation(NeurodataError, ValueError):
    """Data do not satisfy an artifact's contract (schemas/<artifact>.yaml)."""


class ArtifactNotBuilt(NeurodataError, FileNotFoundError):
    """An artifact was asked for that has not been built (run its stage or `dvc repro -P`)."""


class UnknownName(NeurodataError, KeyError, AttributeError):
    """A name that is none of the known ones (stage, report, profile, ...): the message lists them.

    A ``KeyError`` for ``obj["name"]`` and an ``AttributeError`` for ``obj.name``, with a
    readable message (``KeyError`` would quote it).
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class UnknownArtifact(UnknownName):
    """No artifact or catalog entry has that name (a typo, or a path instead of a name)."""


class ArtifactCorrupt(NeurodataError, ValueError):
    """A built artifact's bytes disagree with its manifest: a missing, truncated or damaged
    chunk or metadata file. Never read as fill values; rebuild it or restore it (`dvc checkout`)."""


class StaleArtifact(NeurodataError, RuntimeError):
    """An artifact was rebuilt after it was opened: the open handle would mix two builds.
    Open it again to read the new build."""
