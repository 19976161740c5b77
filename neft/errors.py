"""The exceptions `neft` raises for bad input; the CLI turns each into one line and exit code 2."""


class NeftError(Exception):
    """Bad input the user can fix: the message names the problem and what to do."""


class ConfigError(NeftError):
    """An unknown key, a value out of range, or an unknown registry name."""


class DataError(NeftError):
    """Dataset files missing, unreadable or inconsistent."""


class CheckpointError(NeftError):
    """A checkpoint or result file that is truncated, of another format, or of another model."""


class WriteError(NeftError):
    """A file could not be written: a folder that is not writable, a full disk."""


def one_line(error: BaseException, limit: int = 160) -> str:
    """An exception's message on one line, at most `limit` characters (a library's may span a page)."""
    return " ".join(str(error).split())[:limit]
