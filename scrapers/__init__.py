"""Built-in sources: one module per site, plus generic feed/sitemap/URL-list/ClaimReview sources.

Each module defines a :class:`scrapers.base.Source`; the registry in :mod:`factcheck.sources`
knows them by name. Logging goes to the ``scrapers`` logger, silent unless the application
configures logging.
"""

import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())
