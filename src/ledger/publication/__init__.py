"""Publication: a static transparency site and open data, built from the public copy of the
log only and each beside the signed checkpoint it was built from (``ledger publish``).

``build.py`` makes the public copy and replaces the output folder; ``snapshot.py`` reads the
copy once; ``site.py`` writes the pages (frame, style and script in ``templates.py``, inline
SVG charts in ``charts.py``); ``opendata.py`` writes 360Giving, Popolo and every read model as
CSV and JSON.
"""
