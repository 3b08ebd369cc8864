"""Which PostgreSQL the service uses: the configured URL, or the embedded server of DATA_DIR.

Apart from the runtime so that a command needing only the database imports only this.
"""

from __future__ import annotations

import contextlib

from sqlalchemy import make_url

from bot.core import redact
from bot.core.settings import ServiceSettings
from storage.embedded import start_embedded


def database_url(settings: ServiceSettings) -> str:
    if settings.database_url:
        # A password in the URL is a secret like the ones given by reference; a URL that does
        # not parse is reported where it is used.
        with contextlib.suppress(Exception):
            password = make_url(settings.database_url).password
            if password:
                redact.register(str(password))
        return settings.database_url
    return start_embedded(settings.data_dir)
