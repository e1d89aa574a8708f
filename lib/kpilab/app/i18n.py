"""English / 中文 for every label: ``t("Plan accuracy", "计划准确度")`` picks the session's language."""

from __future__ import annotations

import streamlit as st

LANGUAGES = {"en": "English", "zh": "中文"}


def lang() -> str:
    return st.session_state.get("lang", "en")


def t(en: str, zh: str) -> str:
    """The text in the session's language."""
    return zh if lang() == "zh" else en


def tl(text) -> str:
    """A registry ``L10n`` in the session's language."""
    return text(lang())
