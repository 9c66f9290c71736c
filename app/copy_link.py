"""A "Copy link" button (``st.components.v2``, in the page's DOM): copies the page's current URL, which
carries every view setting (:mod:`vitviz_dashboard.params`), for a lecturer to paste into the class chat.

The Clipboard API needs a secure context (https, or localhost); on a plain-http classroom address the
button falls back to a selected text field and ``document.execCommand("copy")``, and when even that is
refused it leaves the link selected in the field, for Ctrl+C.
"""
from __future__ import annotations

import streamlit as st

_CSS = """
.vv-copy { display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; }
.vv-copy button { font: inherit; font-size: 14px; padding: 0.3rem 0.75rem; border-radius: 0.5rem; cursor: pointer;
  border: 1px solid rgba(49, 51, 63, 0.25); background: var(--st-background-color, #fff); color: inherit; }
.vv-copy button:hover { border-color: #C62828; color: #C62828; }
.vv-copy button:focus-visible { outline: 3px solid #1565C0; outline-offset: 2px; }
.vv-copy-done { font-size: 13px; color: #2e7d32; }
.vv-copy-field { width: 100%; font-size: 12px; }
"""

_JS = """
export default function (component) {
  const { data, parentElement } = component;
  let root = parentElement.querySelector('.vv-copy');
  if (!root) {
    root = document.createElement('div');
    root.className = 'vv-copy';
    root.innerHTML = '<button type="button"></button><span class="vv-copy-done" role="status" aria-live="polite"></span>';
    parentElement.appendChild(root);
    root.querySelector('button').addEventListener('click', async () => {
      const url = window.location.href;
      const done = root.querySelector('.vv-copy-done');
      try {
        await navigator.clipboard.writeText(url);
        done.textContent = root.vvData.copied;
      } catch (e) {
        let field = root.querySelector('.vv-copy-field');
        if (!field) {
          field = document.createElement('input');
          field.className = 'vv-copy-field';
          field.readOnly = true;
          root.appendChild(field);
        }
        field.value = url;
        field.select();
        done.textContent = document.execCommand && document.execCommand('copy') ? root.vvData.copied : root.vvData.select;
      }
      setTimeout(() => { done.textContent = ''; }, 3000);
    });
  }
  root.vvData = data;
  const button = root.querySelector('button');
  button.textContent = data.label;
  button.title = data.help;
}
"""

_COMPONENT = st.components.v2.component("vitviz.copy_link", css=_CSS, js=_JS, isolate_styles=False)


def copy_link(key: str, *, label: str, help: str, copied: str, select: str) -> None:
    """The button, with its texts in the page's language (``select``: shown when only the field is left)."""
    _COMPONENT(key=key, data={"label": label, "help": help, "copied": copied, "select": select})
