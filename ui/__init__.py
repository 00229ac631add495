"""Streamlit helpers shared by RNN Lab's pages. Only this package, app.py and pages/ import streamlit."""
