"""The shared sidebar, drawn once per run by the entry script: model, weights, device, image, size.

Returns one :class:`selection.Selection` (or None with a hint when there is nothing to show yet).
Every setting goes through :mod:`params`, so it survives page changes and sits in the URL.
"""
from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Optional

import streamlit as st

from vitviz_dashboard import caches, compute, devices, params, selection
from vitviz_dashboard.copy_link import copy_link
from vitviz.text import i18n
from vitviz.loading.catalog import distinct_labels, list_models
from vitviz.text.names import model_description, model_label, sample_name
from vitviz.text.i18n import t
from vitviz.inputs.images import IMAGE_SUFFIXES, MAX_PIXELS
from vitviz.loading.registry import VIT, ModelSpec
from vitviz.loading.weights import find_local_weights, hub_cached_file
from vitviz.loading.weights import weights_dir as find_weights_dir

DEFAULT_SAMPLE = "cat"
UPLOAD_TYPES = [suffix.lstrip(".") for suffix in IMAGE_SUFFIXES]  # the formats vitviz.inputs.images reads
HINT = "_vv_hint"


def weights_dir() -> Optional[str]:
    """The weights folder by the library's one rule (:func:`vitviz.loading.weights.weights_dir`), as a cache key."""
    folder = find_weights_dir()
    return str(folder) if folder else None


def availability(spec: ModelSpec, local: frozenset[str]) -> Optional[str]:
    """None when pretrained weights can be had, else why not as a code for the pickers' text.

    The one code is ``"offline"``: no local weights, nothing in the Hugging Face cache, and the hub is
    unreachable.
    """
    if spec.name in local or hub_cached_file(spec.name):  # local: :func:`local_names`
        return None
    from vitviz.loading.models import hub_reachable

    if hub_reachable(timeout=1.5):
        return None
    return "offline"


@st.cache_resource(ttl=30, show_spinner=False)
def catalogue(folder: Optional[str]) -> tuple[list[ModelSpec], dict[str, Optional[str]]]:
    """Every registered model and why its weights are unavailable (None: available), for 30 s.

    Checking 19 models' files, the Hugging Face cache and the hub took ~250 ms: too much for every
    rerun, and weights folders change rarely.
    """
    specs, here = list_models(folder), local_names(folder)
    return specs, {s.name: availability(s, here) for s in specs}


@st.cache_resource(ttl=30, show_spinner=False)
def local_names(folder: Optional[str]) -> frozenset[str]:
    """The registered models whose weights are files in ``folder``, for 30 s (as :func:`catalogue`): every
    run's sidebar asked the folder about each of them (``find_local_weights``) to pick the default."""
    path = Path(folder) if folder else None
    return frozenset(s.name for s in list_models(folder) if find_local_weights(s.name, path))


def default_choice(names: list[str], reasons: dict[str, Optional[str]], folder: Optional[str]) -> str:
    """The first model whose weights are in the folder, else the first available, else the first listed."""
    here = local_names(folder)
    local = [n for n in names if n in here]
    usable = [n for n in names if reasons[n] is None]
    return (local or usable or names)[0]


def vit_choices(folder: Optional[str]) -> tuple[dict[str, ModelSpec], dict[str, Optional[str]], str]:
    """The ViTs the model picker offers (by name), why any of them is unavailable, and the default one."""
    everything, reasons = catalogue(folder)
    by_name = {s.name: s for s in everything if s.kind == VIT}
    return by_name, reasons, default_choice(list(by_name), reasons, folder)


def default_sample(names: list[str]) -> str:
    return DEFAULT_SAMPLE if DEFAULT_SAMPLE in names else names[0]


def first_selection() -> Optional[selection.Selection]:
    """What a visitor who opens the dashboard without a link is shown: the default model, pretrained, on
    the ``auto`` device, and the default sample at the model's own input size; None when that model's
    weights cannot be had. Its model and analysis are the cache entries :func:`draw` asks for first.
    """
    folder = weights_dir()
    _, reasons, name = vit_choices(folder)
    if reasons[name]:
        return None
    sample = default_sample(selection.sample_names())
    data = selection.sample_bytes(sample)
    return selection.Selection(name, True, devices.auto_device(), folder,
                             t("sidebar.sample_label", name=sample_name(sample)),
                             hashlib.sha256(data).hexdigest(), data, None)


def browser_language() -> str:
    """The browser's preferred supported language (``Accept-Language``), else English."""
    locale = getattr(st.context, "locale", None)
    if not locale:
        try:
            locale = st.context.headers.get("Accept-Language")
        except Exception:  # noqa: BLE001 - no request context (AppTest, bare script)
            locale = None
    return i18n.best_language(locale)


def language_from_link() -> str:
    """This run's language: the session's choice, else ``?lang=``, else the browser's (read before any text)."""
    return params.prepare("lang", browser_language(), lambda v: v in i18n.LANGUAGES)


def draw() -> Optional[selection.Selection]:
    st.session_state[HINT] = None
    side = st.sidebar
    lang = side.radio(t("sidebar.language"), list(i18n.LANGUAGES), key="vv_lang", horizontal=True,
                      format_func=i18n.LANGUAGES.get)
    # A language the link gave or the user chose stays in the URL (lang=ko), so the link opens in Korean for an
    # English-locale student too; left to the browser's own language, the URL follows the reader's browser.
    chosen = st.session_state.setdefault("_vv_lang_chosen", "lang" in st.query_params) or lang != browser_language()
    st.session_state["_vv_lang_chosen"] = chosen
    params.publish("lang", lang, None if chosen else browser_language())
    params.prepare("present", False, lambda v: isinstance(v, bool))
    presenter = side.toggle(t("sidebar.presenter"), key="vv_present", help=t("sidebar.presenter_help"))
    params.publish("present", presenter, False)
    with side:  # the page's URL holds every setting: one click puts it on the clipboard for the class
        copy_link("vv-copy-link", label=t("sidebar.copy_link"), help=t("sidebar.copy_link_help"),
                  copied=t("sidebar.copy_link_done"), select=t("sidebar.copy_link_select"))

    folder = weights_dir()
    by_name, reasons, default = vit_choices(folder)
    side.markdown(f"### {t('sidebar.model')}")
    params.prepare("model", default, lambda v: v in by_name)
    labels = distinct_labels(list(by_name.values()))  # two ViT-B/16s are told apart
    name = side.selectbox(t("sidebar.model"), list(by_name), key="vv_model", label_visibility="collapsed",
                          format_func=lambda n: model_label(labels[n])
                                                + (t("sidebar.unavailable_suffix") if reasons[n] else ""),
                          help=t("sidebar.model_help"))
    params.publish("model", name, default)
    spec, reason = by_name[name], reasons[name]
    if reason:
        side.warning(t("sidebar.unavailable"))
    params.prepare("untrained", False, lambda v: isinstance(v, bool))
    untrained = side.checkbox(t("sidebar.untrained"), key="vv_untrained", help=t("sidebar.untrained_help"))
    params.publish("untrained", untrained, False)
    if spec.description:
        with side.expander(t("sidebar.about_model")):
            st.caption(model_description(spec.description, spec.family))
    device = _device_picker()

    side.markdown(f"### {t('sidebar.image')}")
    data, label = _image_picker()
    if data is None:
        st.session_state[HINT] = t("sidebar.hint_image")
        return None
    image_key = hashlib.sha256(data).hexdigest()
    side.caption(t("sidebar.image_id", id=image_key[:10], label=label))
    if reason and not untrained:
        st.session_state[HINT] = t("sidebar.hint_model")
        return None
    sel = selection.Selection(name, not untrained, device, folder, label, image_key, data, None, presenter=presenter)
    loaded = load_with_progress(sel, spec)  # errors here are shown by the caller's guard
    size = _size_picker(loaded)
    return dataclasses.replace(sel, size=size, model_label=model_label(spec.label, untrained=untrained))


def load_with_progress(sel: selection.Selection, spec: ModelSpec):
    """The selection's model; a download from the hub shows as a running status box, not a silent wait."""
    needs_download = sel.pretrained and spec.name not in local_names(sel.weights_dir) and not hub_cached_file(spec.name)
    if not needs_download:
        return compute.model_for(sel)
    from vitviz.loading.catalog import hub_repo_hint

    repo = hub_repo_hint(spec)
    with st.status(t("sidebar.downloading", model=spec.label, repo=repo), expanded=True) as box:
        st.write(t("sidebar.download_cached"))
        loaded = compute.model_for(sel)
        box.update(label=t("sidebar.downloaded", model=spec.label), state="complete", expanded=False)
    return loaded


def _device_picker() -> str:
    import torch

    side = st.sidebar
    if torch.cuda.is_available():
        params.prepare("device", "auto", lambda v: v in ("auto", "cpu", "cuda"))
        choice = side.selectbox(t("sidebar.device"), ["auto", "cpu", "cuda"], key="vv_device", persist_state="session")
        params.publish("device", choice, "auto")
    else:
        choice = "cpu"
    device = devices.resolve_device(choice)
    if st.session_state.get(devices.FORCE_CPU):
        side.caption(t("sidebar.cpu_after_oom"))
    elif not torch.cuda.is_available():
        side.caption(t("sidebar.cpu_only"))
    return device


def _image_picker() -> tuple[Optional[bytes], str]:
    side = st.sidebar
    samples = selection.sample_names()
    # A view made with an upload says so in its link (image=upload): the upload itself cannot travel in a link
    # and does not survive a server restart, so whoever opens the link is told, never silently shown the cat.
    from_upload = params.prepare("image", "sample", lambda v: v in ("sample", "upload")) == "upload"
    source = side.radio(t("sidebar.image_source"), ["Sample", "Upload", "Camera"], key="vv_source", horizontal=True,
                        label_visibility="collapsed", format_func=lambda s: t(f"sidebar.source_{s.lower()}"))
    params.publish("image", None if source == "Sample" else "upload", None)
    if from_upload and source == "Sample":
        params.notice(t("sidebar.upload_not_in_link", sample=sample_name(default_sample(samples))))
    st.session_state["_vv_image_kind"] = "sample"  # told once
    if source == "Sample":
        default = default_sample(samples)
        params.prepare("sample", default, lambda v: v in samples)
        # The file stem is the widget's value and the URL's; the picker shows the name in the page's language.
        sample = side.selectbox(t("sidebar.sample"), samples, key="vv_sample", format_func=sample_name)
        params.publish("sample", sample, None)  # always in the URL: a link names its image
        return selection.sample_bytes(sample), t("sidebar.sample_label", name=sample_name(sample))
    params.publish("sample", None, None)
    limit = st.get_option("server.maxUploadSize")
    if source == "Upload":
        upload = side.file_uploader(t("sidebar.upload"), type=UPLOAD_TYPES, key="vv_upload",
                                    help=t("sidebar.upload_help", mb=limit, mp=MAX_PIXELS // 10**6))
        # No copy is kept: clearing the uploader clears the image.
        if upload is None and from_upload:  # the session is new but the page had an upload: a server restart
            params.notice(t("sidebar.upload_lost"))
        return (selection.upload_bytes(upload.getvalue()), t("sidebar.upload_label")) if upload is not None else (None, "")
    shot = side.camera_input(t("sidebar.camera"), key="vv_camera")
    return (selection.upload_bytes(shot.getvalue()), t("sidebar.camera_label")) if shot is not None else (None, "")


def _size_picker(loaded) -> Optional[tuple[int, int]]:
    """Input-size slider in patch-size steps, capped by what one cached analysis may hold."""
    from vitviz.run.pipeline import estimate_analysis_nbytes
    from vitviz.inputs.preprocess import patch_size_of

    side = st.sidebar
    native = int(loaded.data_config["input_size"][1])
    m = loaded.model
    if not getattr(m, "dynamic_img_size", False):
        side.caption(t("sidebar.size_fixed", px=native))
        return None
    p = int(patch_size_of(m)[0])  # a hybrid's pitch is its CNN stem's stride, not timm's 1×1 patch_size
    prefix = int(getattr(m, "num_prefix_tokens", 1))
    layers, heads, dim = len(m.blocks), int(m.blocks[0].attn.num_heads), int(m.embed_dim)
    budget = caches.per_analysis_budget()

    def need(size: int) -> int:
        return estimate_analysis_nbytes(layers, heads, prefix, (size // p, size // p), (p, p), embed_dim=dim)

    def fits(size: int) -> bool:
        return need(size) <= budget

    wanted = list(range(4 * p, min(1024, 2 * native) + 1, p))
    if native not in wanted:
        wanted = sorted(set(wanted) | {native})
    options = [s for s in wanted if fits(s)] or [native]
    params.prepare("size", native if native in options else options[-1], lambda v: v in options)
    value = side.select_slider(t("sidebar.size"), options=options, key="vv_size", help=t("sidebar.size_help", p=p))
    params.publish("size", value, native)
    if options[-1] < wanted[-1]:
        first_out = next(s for s in wanted if s > options[-1])
        side.caption(t("sidebar.size_capped", top=options[-1], next=first_out, need=f"{need(first_out) / 2**20:.0f}",
                       limit=f"{budget / 2**20:.0f}", var=caches.CACHE_BYTES_VAR))
    return None if value == native else (value, value)
