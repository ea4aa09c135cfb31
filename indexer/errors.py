"""The exception hierarchy of the indexer, translated into messages at the edges."""


class IndexerError(Exception):
    """Base of every error the indexer raises on purpose."""


class ConfigError(IndexerError):
    """The configuration file is missing, unreadable or holds a bad value."""


class CatalogueError(IndexerError):
    """A catalogue entry is malformed; the message names the entry and the field."""


class ExtractionError(IndexerError):
    """One file could not be read; recorded per file, the batch goes on."""


class SearchQueryError(IndexerError):
    """The user's query cannot be run; the message is safe to show to the user.

    `code` names the problem and `params` its figures, so that an interface
    can say the same thing in another language.
    """

    def __init__(self, message: str, code: str = "invalid", **params):
        super().__init__(message)
        self.code = code
        self.params = params


class IndexLockedError(IndexerError):
    """Another process is writing the index."""


class IndexMissingError(IndexerError):
    """No index has been built yet."""


class UploadError(IndexerError):
    """An upload is refused; the message is safe to show, `code` and `params` let an interface translate it."""

    def __init__(self, message: str, code: str = "invalid", **params):
        super().__init__(message)
        self.code = code
        self.params = params


class RemovalsHeldError(IndexerError):
    """An update or rebuild would remove files the archive seems to have lost by accident; it waits for a yes.

    `paths` are the files that would leave the index.
    """

    def __init__(self, message: str, paths: list[str] | None = None):
        super().__init__(message)
        self.paths = list(paths or [])
