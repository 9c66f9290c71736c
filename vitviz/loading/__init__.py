"""Where models and weights come from: the curated registry and catalogue (no torch import), the local
weights folder and the Hugging Face cache and hub, building and loading a timm model, offline downloads.
"""
