"""Streamlit-side helpers shared by app.py and pages/: session state, the shared frame, safe rendering.

Only this package and the page scripts import streamlit; all numbers come from :mod:`mlimpact`.
"""
