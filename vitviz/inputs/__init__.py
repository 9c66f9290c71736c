"""Images in: safe reading of user files (formats, sizes, bombs), the bundled samples, and a model's
preprocessing and token layout.
"""
