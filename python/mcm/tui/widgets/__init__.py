"""The TUI's own widgets: each renders one view of a Decision, a measurement or the rules."""
