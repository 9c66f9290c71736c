"""Code that runs a model: the captured forward pass, per-image and per-dataset analyses, gradient
explanations, faithfulness runs, one patch traced through the encoder, the streamed and resumable
`distance` runs (ranks, locks, saved progress), and cross-session batching.
"""
