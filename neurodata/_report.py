"""What a report is: its text, and how many of its rows failed their band."""

from __future__ import annotations

__all__ = ["Report"]


class Report(str):
    """The text of a report (a ``str``), with ``failed``: the number of rows outside their band.

    ``neurodata report`` prints the text and exits non-zero when ``failed`` is not 0.
    """

    failed: int

    def __new__(cls, text: str, *, failed: int = 0) -> Report:
        report = super().__new__(cls, text)
        report.failed = int(failed)
        return report
