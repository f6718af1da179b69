"""The permission matrix on the frameworks' pages: the admin site and Viewflow's lists, process
and task pages of each flow, closed to whoever is not staff (tests/security/policy.py). A module
of its own so that pytest-xdist runs it beside test_permission_matrix.py, in another process.
The default run tries each page as the anonymous visitor, the administrator and one persona
without staff rights taken in turn; the rest of the cross product is marked `matrix_full`."""

import pytest

from .matrix import cells, check_cell

pytestmark = [
    pytest.mark.django_db,
    # Viewflow's process list paginates an unordered queryset: a warning, not an access matter.
    pytest.mark.filterwarnings("ignore::django.core.paginator.UnorderedObjectListWarning"),
]


@pytest.mark.parametrize("cell", cells(frameworks=True))
def test_permission_matrix_frameworks(world, cell):
    check_cell(world, cell)
