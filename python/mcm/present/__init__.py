"""Face-neutral presentation, shared by the ``mcm`` command and ``mcm-tui``: the display language and metric
labels (:mod:`~mcm.present.language`), the engine's messages in that language (:mod:`~mcm.present.messages`,
Chinese templates in :mod:`~mcm.present.messages_zh`), terminal styling and tables (:mod:`~mcm.present.terminal`),
a Decision as text or Markdown (:mod:`~mcm.present.decision`), and values for the command line
(:mod:`~mcm.present.values`).

Values are shown by the metric catalogue (:meth:`mcm.metrics.Metric.format`); this layer only arranges them.
It depends on the core (engine, metrics, sanitize) and never on a face.
"""
