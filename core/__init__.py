"""RNN Lab's engine: data loading, models, training jobs and evaluation. Never imports Streamlit."""

import os

# TensorFlow's C++ start-up chatter would break the CLI's one-line errors and clutter logs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
