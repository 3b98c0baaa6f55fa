"""The TUI's screens, one module each: scenario, constraints, baseline, recommendations, export, help and the
detail views (a rule's source, a technique)."""
