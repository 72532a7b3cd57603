"""Airtable CSV import into the grid: preview, then commit."""
from ..results import Created
from ..shapes import INTEGER, OBJECT, array, obj
from . import grid_import

PREVIEW = obj(rows=INTEGER, columns=array(OBJECT), sample=array(), problems=array(), problem_count=INTEGER)
COMMITTED = obj(created=INTEGER, updated=INTEGER, unchanged=INTEGER)


def preview_import(req):
    """Read a CSV (text/csv, multipart field `file`, or JSON {csv}): inferred types, suggested mapping, samples, problems."""
    return grid_import.preview(req)


def commit_import(req):
    """Import a CSV with {csv, mapping, keys?, mode?}: one transaction, one version, after a pre_import backup."""
    return Created(grid_import.commit(req))
