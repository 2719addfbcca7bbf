class DataError(Exception):
    """A dataset problem a user can fix; printed as one line, no traceback."""
