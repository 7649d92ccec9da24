"""Qt widgets and windows: the control window, output windows, panels and monitors."""
