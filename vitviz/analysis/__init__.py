"""Pure analyses of the ViT paper: each takes tensors/arrays and returns arrays or small dataclasses.

Each module's docstring states its convention (tokens dropped, normalisation, units).
"""
from vitviz.analysis.distance import (MeanDistanceAccumulator, mean_attention_distance, patch_distance_matrix,
                                      reference_distances)
from vitviz.analysis.cnn_features import StageFeatures, stage_features
from vitviz.analysis.compare import DepthComparison, depth_comparison
from vitviz.analysis.embedding import EmbeddingStages, embedding_stages
from vitviz.analysis.facts import PAPER_TABLE1, ModelFacts, model_facts
from vitviz.analysis.filters import FilterComponents, filter_components, patch_embedding_filters
from vitviz.analysis.patches import Patches, patchify, unpatchify
from vitviz.analysis.posembed import patch_position_embeddings, position_embedding_similarity
from vitviz.analysis.predictions import Prediction, class_names, top_k
from vitviz.analysis.receptive_field import (EffectiveRF, LayerRF, effective_receptive_field, effective_receptive_fields,
                              stage_receptive_fields, theoretical_receptive_field)
from vitviz.analysis.rollout import attention_map, attention_rollout, default_query, rollout_map, token_row_map
from vitviz.analysis.sinks import (AttentionSinks, NormOutliers, find_attention_sinks, find_norm_outliers, received_share,
                    received_share_by_head)
from vitviz.analysis.tokens import TokenPCA, TokenPCAFit, fit_token_pca, joint_token_pca, token_pca, token_similarity

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
    "attention_map", "attention_rollout", "default_query", "rollout_map", "token_row_map",
    "AttentionSinks", "NormOutliers", "find_attention_sinks", "find_norm_outliers", "received_share",
    "received_share_by_head",
    "TokenPCA", "TokenPCAFit", "fit_token_pca", "joint_token_pca", "token_pca", "token_similarity",
]
