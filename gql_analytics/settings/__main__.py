"""``python -m gql_analytics.settings README.md``: the README's configuration table made anew
(``make settings-table``)."""

import sys
from pathlib import Path

from gql_analytics.settings.flags import with_table

readme = Path(sys.argv[1])
readme.write_text(with_table(readme.read_text()))
