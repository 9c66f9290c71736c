"""Pure analyses of the ViT paper: each takes tensors/arrays and returns arrays or small dataclasses.

Each module's docstring states its convention (tokens dropped, normalisation, units).
"""
from .distance import MeanDistanceAccumulator, mean_attention_distance, patch_distance_matrix, reference_distances
from .cnn_features import StageFeatures, stage_features
from .compare import DepthComparison, depth_comparison
from .embedding import EmbeddingStages, embedding_stages
from .facts import PAPER_TABLE1, ModelFacts, model_facts
from .filters import FilterComponents, filter_components, patch_embedding_filters
from .patches import Patches, patchify, unpatchify
from .posembed import patch_position_embeddings, position_embedding_similarity
from .predictions import Prediction, class_names, top_k
from .receptive_field import (EffectiveRF, LayerRF, effective_receptive_field, effective_receptive_fields,
                              stage_receptive_fields, theoretical_receptive_field)
from .rollout import attention_map, attention_rollout, rollout_map, token_row_map
from .sinks import (AttentionSinks, NormOutliers, find_attention_sinks, find_norm_outliers, received_share,
                    received_share_by_head)
from .tokens import TokenPCA, TokenPCAFit, fit_token_pca, joint_token_pca, token_pca, token_similarity

__all__ = [
    "MeanDistanceAccumulator", "mean_attention_distance", "patch_distance_matrix", "reference_distances",
    "EmbeddingStages", "embedding_stages", "StageFeatures", "stage_features", "DepthComparison", "depth_comparison",
    "EffectiveRF", "LayerRF", "effective_receptive_field", "effective_receptive_fields", "stage_receptive_fields",
    "theoretical_receptive_field",
    "PAPER_TABLE1", "ModelFacts", "model_facts",
    "FilterComponents", "filter_components", "patch_embedding_filters",
    "Patches", "patchify", "unpatchify",
    "patch_position_embeddings", "position_embedding_similarity",
    "Prediction", "class_names", "top_k",
    "attention_map", "attention_rollout", "rollout_map", "token_row_map",
    "AttentionSinks", "NormOutliers", "find_attention_sinks", "find_norm_outliers", "received_share",
    "received_share_by_head",
    "TokenPCA", "TokenPCAFit", "fit_token_pca", "joint_token_pca", "token_pca", "token_similarity",
]
