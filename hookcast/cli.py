"""The ``hookcast`` command.

``hookcast up``, ``web``, ``worker``, ``station`` and ``apikey`` are Django
management commands of hookcast's apps, so every Django command
(``migrate``, ``createsuperuser``, ...) works the same way.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hookcast.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["hookcast", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
