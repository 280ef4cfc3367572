"""The ask terminal's retrieval: find the reviewed entry a visitor's question asks for,
or say honestly that there is none (docs/ask.md).

``text`` (normalise, tokenise), ``index`` (embeddings + BM25 over every phrasing, cached
by content hash), ``retriever`` (fusion and the calibrated refusal rule),
``calibration`` (``knowledge/_calibration.yaml``), ``evaluate`` (``showfloor ask-eval``),
``vocab`` (pinyin candidates for the page), ``privacy`` (the scrubber and the optional
store of unanswered questions), ``service`` (what the station calls).
"""
