"""Face-neutral presentation, shared by the ``mcm`` command and ``mcm-tui``: the display language and metric
labels (:mod:`~mcm.present.language`), terminal styling and tables (:mod:`~mcm.present.terminal`), and a
Decision as text or Markdown (:mod:`~mcm.present.decision`).

Values are shown by the metric catalogue (:meth:`mcm.metrics.Metric.format`); this layer only arranges them.
It depends on the core (engine, metrics, sanitize) and never on a face.
"""
