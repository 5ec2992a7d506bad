"""mlimpact: what a model is worth, from a file of predictions.

The analysis package behind the Streamlit app and the ``python -m mlimpact`` CLI.
It never imports streamlit. Heavy libraries (scikit-learn, scipy) are imported
inside the functions that need them, to keep CLI and page start-up fast.
"""

__version__ = "0.1.0"
