"""The shared sidebar: pick, upload, save and download scenarios; see the changes and the data source."""

from __future__ import annotations

import os

import streamlit as st

from app_support import state
from app_support.scenarios import (ScenarioText, applied_text, folder_scenarios, read_folder_scenario,
                                   scenarios_dir, slug)
from app_support.views import scenario_error

PICK, UPLOAD, SAVE_NAME = "sb:pick", "sb:upload", "sb:save_name"


@st.cache_data(max_entries=8, show_spinner=False)
def _names(folder: str, listing: tuple) -> list[str]:
    return folder_scenarios()


def folder_names() -> list[str]:
    """`folder_scenarios()`, parsed again only when a file in the folder is added, removed or changed.

    Every page's sidebar lists the folder on every rerun; parsing each YAML file costs ~35 ms,
    which a what-if change (target 300 ms) should not pay."""
    folder = scenarios_dir()
    try:
        listing = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(folder.glob("*.yaml")))
    except OSError:
        listing = ()
    return _names(str(folder), listing)


def _options() -> list[str]:
    library = st.session_state[state.LIBRARY]
    return [f"folder:{n}" for n in folder_names()] + [f"saved:{n}" for n in library]


def _label(option: str) -> str:
    origin, name = option.split(":", 1)
    return f"{name}.yaml" if origin == "folder" else f"{name} (this session)"


def _current_option() -> str:
    current = state.scenario()
    return f"folder:{current.name}" if current.origin == "folder" else f"saved:{current.name}"


def _picked() -> None:
    origin, name = st.session_state[PICK].split(":", 1)
    if origin == "folder":
        state.set_scenario(read_folder_scenario(name))
    else:
        state.set_scenario(st.session_state[state.LIBRARY][name])


def _uploaded() -> None:
    """Validate an uploaded scenario before it replaces the current one; a bad file stays a message."""
    from model.loading import ScenarioError, scenario_from_text

    upload = st.session_state.get(UPLOAD)
    if upload is None:
        return
    try:
        text = upload.getvalue().decode("utf-8")
    except UnicodeDecodeError:
        st.session_state["sb:upload_error"] = ScenarioError(upload.name, "", "is not a text file (UTF-8 YAML expected)")
        return
    try:
        scenario = scenario_from_text(text, upload.name)
    except ScenarioError as exc:
        st.session_state["sb:upload_error"] = exc
        return
    st.session_state.pop("sb:upload_error", None)
    name = slug(upload.name.rsplit(".", 1)[0]) or slug(scenario.name)
    st_text = ScenarioText(name, text, "upload")
    st.session_state[state.LIBRARY][name] = st_text
    state.set_scenario(st_text)
    st.session_state[state.NOTICE] = f"Opened {upload.name} ({scenario.name}, {len(scenario.nodes)} nodes)."


def _save(to_folder: bool) -> None:
    """Keep the current scenario with its changes applied, in the session (and optionally the folder)."""
    current = state.scenario()
    name = slug(st.session_state.get(SAVE_NAME) or f"{current.name}-changed")
    text = applied_text(current.text, state.changes())
    if to_folder:
        path = scenarios_dir() / f"{name}.yaml"
        if path.exists() and name in folder_scenarios() and path.read_text(encoding="utf-8") != text \
                and not os.environ.get("HEADROOM_ALLOW_OVERWRITE"):
            st.session_state[state.NOTICE] = f"scenarios/{name}.yaml already exists; choose another name."
            return
        path.write_text(text, encoding="utf-8")
        state.set_scenario(ScenarioText(name, text, "folder"))
        st.session_state[state.NOTICE] = f"Saved to {path.name} in the scenarios folder."
    else:
        st_text = ScenarioText(name, text, "upload")
        st.session_state[state.LIBRARY][name] = st_text
        state.set_scenario(st_text)
        st.session_state[state.NOTICE] = f"Saved {name} for this session (see Compare)."


def sidebar() -> None:
    with st.sidebar:
        st.markdown("### Scenario")
        options = _options()
        current = _current_option()
        if current not in options:
            options.append(current)
        st.session_state[PICK] = current
        st.selectbox("Scenario", options, format_func=_label, key=PICK, on_change=_picked,
                     label_visibility="collapsed", help="Files in the scenarios folder, and the ones you uploaded or saved.")
        changes = state.changes()
        if changes:
            st.caption(f"{len(changes)} what-if change(s) in effect:")
            st.code("\n".join(f"{k} = {v}" for k, v in changes.items()), language=None, wrap_lines=True)
            st.button("Reset changes", on_click=state.reset_changes, icon=":material/undo:", key="sb:reset")
        with st.expander("Open, save, download", icon=":material/folder_open:"):
            st.file_uploader("Upload a scenario (YAML)", type=["yaml", "yml"], key=UPLOAD, on_change=_uploaded,
                             help="A scenario file as in CONTRACT.md section 1.")
            st.text_input("Save as", key=SAVE_NAME, placeholder=f"{state.scenario().name}-changed")
            c1 = c2 = st.container()  # one under the other: side by side, the sidebar cut "To folder" to "To fo..."
            c1.button("Keep", on_click=_save, args=(False,), help="Keep it in this browser session (for Compare).",
                      key="sb:keep", icon=":material/bookmark_add:")
            c2.button("To folder", on_click=_save, args=(True,), help="Write it to the scenarios folder on the server.",
                      key="sb:to_folder", icon=":material/save:")
            text = applied_text(state.scenario().text, changes)
            st.download_button("Download YAML", text, file_name=f"{slug(state.scenario().name)}.yaml",
                               mime="application/x-yaml", icon=":material/download:", key="sb:download")
        error = st.session_state.get("sb:upload_error")
        if error is not None:
            scenario_error(error, "Fix that line and upload the file again; the scenario you had open is unchanged.")
        message = state.notice()
        if message:
            st.info(message, icon=":material/info:")
        st.markdown("### Data source")
        st.caption(state.source_text())


def setup() -> None:
    """Every page's first line: the session's state (from the URL on first load), the sidebar, the URL."""
    state.init()
    sidebar()
    state.sync_url()
