"""The Streamlit layer: the ONLY subpackage that imports streamlit (state, widgets, components)."""
