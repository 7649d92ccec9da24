"""A dark theme for an operator's booth: low glare, high contrast for the few things that matter."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

BACKGROUND = "#121416"
PANEL = "#1b1e21"
RAISED = "#25292d"
TEXT = "#d8dcdf"
MUTED = "#8a9299"
ACCENT = "#3fb6a8"  # teal, the hyphae of the first show
WARN = "#e0a040"  # amber
ERROR = "#e05a5a"
LIVE = "#6fd16f"
SIMULATED = "#7a8ba0"

SOURCE_COLORS = {"ui": ACCENT, "midi": "#c48df0", "osc": WARN, "preset": MUTED, "show": "#7fb2ff",
                 "default": MUTED, "api": WARN, "engine": MUTED}

STYLESHEET = f"""
QWidget {{ background: {BACKGROUND}; color: {TEXT}; font-size: 12px; }}
QGroupBox {{ background: {PANEL}; border: 1px solid {RAISED}; border-radius: 6px; margin-top: 16px;
             padding: 6px 4px 4px 4px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 4px; color: {ACCENT}; font-weight: bold; }}
QPushButton, QToolButton {{ background: {RAISED}; border: 1px solid #343a40; border-radius: 4px;
                            padding: 3px 8px; }}
QPushButton:hover, QToolButton:hover {{ border-color: {ACCENT}; }}
QPushButton:checked, QToolButton:checked {{ background: {ACCENT}; color: {BACKGROUND}; }}
QPushButton:disabled {{ color: #555; }}
QLineEdit, QComboBox, QSpinBox, QDoubleSpinBox {{ background: {RAISED}; border: 1px solid #343a40;
                                                   border-radius: 4px; padding: 2px 6px; }}
QSlider::groove:horizontal {{ height: 4px; background: {RAISED}; border-radius: 2px; }}
QSlider::sub-page:horizontal {{ background: {ACCENT}; border-radius: 2px; }}
QSlider::handle:horizontal {{ background: {TEXT}; width: 10px; margin: -5px 0; border-radius: 5px; }}
QTabWidget::pane {{ border: 1px solid {RAISED}; }}
QTabBar::tab {{ background: {PANEL}; padding: 5px 12px; border: 1px solid {RAISED}; }}
QTabBar::tab:selected {{ background: {RAISED}; color: {ACCENT}; }}
QListWidget, QTableWidget, QPlainTextEdit {{ background: {PANEL}; border: 1px solid {RAISED}; }}
QHeaderView::section {{ background: {RAISED}; border: none; padding: 3px; }}
QScrollArea {{ border: none; }}
QCheckBox::indicator {{ width: 14px; height: 14px; border: 1px solid {MUTED}; border-radius: 3px;
                       background: {RAISED}; }}
QCheckBox::indicator:checked {{ background: {ACCENT}; border-color: {ACCENT}; }}
QLabel#muted {{ color: {MUTED}; }}
QLabel#title {{ font-size: 15px; font-weight: bold; color: {TEXT}; }}
QLabel#error {{ color: {ERROR}; }}
QStatusBar {{ background: {PANEL}; color: {MUTED}; }}
"""


def apply(app: QApplication) -> None:
    """Set the palette (for native dialogs) and the stylesheet (for our widgets)."""
    palette = QPalette()
    for role, color in ((QPalette.ColorRole.Window, BACKGROUND), (QPalette.ColorRole.WindowText, TEXT),
                        (QPalette.ColorRole.Base, PANEL), (QPalette.ColorRole.Text, TEXT),
                        (QPalette.ColorRole.Button, RAISED), (QPalette.ColorRole.ButtonText, TEXT),
                        (QPalette.ColorRole.Highlight, ACCENT), (QPalette.ColorRole.HighlightedText, BACKGROUND)):
        palette.setColor(role, QColor(color))
    app.setPalette(palette)
    app.setStyleSheet(STYLESHEET)
