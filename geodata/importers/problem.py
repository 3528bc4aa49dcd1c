"""The one exception an importer raises for input the user can fix.

Kept apart from geodata/importers/common.py (numpy, pandas, shapely) so the CLI's
error mapping can name it without loading those for every command.
"""


class ImportProblem(Exception):  # noqa: N818 - reads better in messages than ...Error
    """Bad input the user can fix; the message is one readable line."""
