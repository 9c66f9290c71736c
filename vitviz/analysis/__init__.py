"""Pure analyses of the ViT paper: each takes tensors/arrays and returns arrays or small dataclasses.

Each module's docstring states its convention (tokens dropped, normalisation, units).
"""
from .distance import MeanDistanceAccumulator, mean_attention_distance, patch_distance_matrix, reference_distances
from .embedding import EmbeddingStages, embedding_stages
from .facts import PAPER_TABLE1, ModelFacts, model_facts
from .filters import FilterComponents, filter_components, patch_embedding_filters
from .patches import Patches, patchify, unpatchify
from .posembed import patch_position_embeddings, position_embedding_similarity
from .predictions import Prediction, class_names, top_k
from .rollout import attention_map, attention_rollout, rollout_map, token_row_map

__all__ = [
    "MeanDistanceAccumulator", "mean_attention_distance", "patch_distance_matrix", "reference_distances",
    "EmbeddingStages", "embedding_stages",
    "PAPER_TABLE1", "ModelFacts", "model_facts",
    "FilterComponents", "filter_components", "patch_embedding_filters",
    "Patches", "patchify", "unpatchify",
    "patch_position_embeddings", "position_embedding_similarity",
    "Prediction", "class_names", "top_k",
    "attention_map", "attention_rollout", "rollout_map", "token_row_map",
]
