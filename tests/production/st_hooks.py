"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS): every request carries an api-version.

tagwise reads ``api-version`` itself (so a missing one gets the Azure error), which leaves it out
of the OpenAPI schema; without this hook almost every generated request would stop at that check.
"""

import schemathesis


@schemathesis.hook
def map_query(ctx, query):
    query = dict(query or {})
    query.setdefault("api-version", "2023-04-01")
    return query
