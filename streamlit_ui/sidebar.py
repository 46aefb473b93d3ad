"""The shared sidebar: pick, upload, save and download scenarios; see the changes and the data source."""

from __future__ import annotations

import streamlit as st

from streamlit_ui import folder_save, guard, state
from streamlit_ui.scenarios import (
    ScenarioText,
    applied_text,
    folder_scenarios,
    read_folder_scenario,
    scenarios_dir,
    slug,
    uses_trace,
)
from streamlit_ui.views import md, scenario_error

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
        listing = tuple(
            (p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(folder.glob("*.yaml"))
        )
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
    from model.scenario.reader import ScenarioError, scenario_from_text

    upload = st.session_state.get(UPLOAD)
    if upload is None:
        return
    label = guard.echo(upload.name)[:120]
    try:
        guard.check_size(len(upload.getvalue()), label)
        text = upload.getvalue().decode("utf-8")
    except UnicodeDecodeError:
        st.session_state["sb:upload_error"] = ScenarioError(
            label, "", "is not a text file (UTF-8 YAML expected)"
        )
        return
    except ScenarioError as exc:
        st.session_state["sb:upload_error"] = exc
        return
    try:
        guard.check_yaml(text, label)
        guard.check_no_trace(text, label)
        scenario = scenario_from_text(text, label)
        guard.check_scenario(scenario, label)
    except ScenarioError as exc:
        st.session_state["sb:upload_error"] = exc
        return
    st.session_state.pop("sb:upload_error", None)
    name = slug(upload.name.rsplit(".", 1)[0]) or slug(scenario.name)
    st_text = ScenarioText(name, text, "upload")
    st.session_state[state.LIBRARY][name] = st_text
    state.set_scenario(st_text)
    st.session_state[state.NOTICE] = f"Opened {label} ({scenario.name}, {len(scenario.nodes)} nodes)."


def _save(to_folder: bool) -> None:
    """Keep the current scenario with its changes applied, in the session (and optionally the folder)."""
    current = state.scenario()
    typed = st.session_state.get(SAVE_NAME) or f"{current.name}-changed"
    if len(typed) > folder_save.MAX_NAME_CHARS:
        st.session_state[state.NOTICE] = (
            f"That name is {len(typed)} characters long; use at most {folder_save.MAX_NAME_CHARS}."
        )
        return
    name = slug(typed)
    from model.scenario.reader import ScenarioError

    try:  # what a link brought in is saved only if it could be opened: no trace path, bounded size
        if current.origin == "folder":
            guard.check_changes(state.changes(), base_uses_trace=uses_trace(current.text))
        else:
            guard.check_yaml(current.text, current.name)
            guard.check_no_trace(current.text, current.name)
            guard.check_changes(state.changes())
    except ScenarioError as exc:
        st.session_state[state.NOTICE] = f"Not saved: {current.name} {exc.message}."
        return
    text = applied_text(current.text, state.changes())
    if to_folder:
        try:
            path = folder_save.save_new(scenarios_dir(), name, text)
        except folder_save.SaveRefused as exc:
            st.session_state[state.NOTICE] = str(exc)
            return
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
        st.selectbox(
            "Scenario",
            options,
            format_func=_label,
            key=PICK,
            on_change=_picked,
            label_visibility="collapsed",
            help="Files in the scenarios folder, and the ones you uploaded or saved.",
        )
        changes = state.changes()
        if changes:
            st.caption(f"{len(changes)} what-if change(s) in effect:")
            st.code("\n".join(f"{k} = {v}"[:200] for k, v in changes.items()), language=None, wrap_lines=True)
            st.button("Reset changes", on_click=state.reset_changes, icon=":material/undo:", key="sb:reset")
        with st.expander("Open, save, download", icon=":material/folder_open:"):
            st.file_uploader(
                "Upload a scenario (YAML)",
                type=["yaml", "yml"],
                key=UPLOAD,
                on_change=_uploaded,
                max_upload_size=max(1, guard.MAX_SCENARIO_BYTES // 1_000_000),
                help="A scenario file as in CONTRACT.md section 1.",
            )
            st.text_input("Save as", key=SAVE_NAME, placeholder=f"{state.scenario().name}-changed")
            c1 = c2 = (
                st.container()
            )  # one under the other: side by side, the sidebar cut "To folder" to "To fo..."
            c1.button(
                "Keep",
                on_click=_save,
                args=(False,),
                help="Keep it in this browser session (for Compare).",
                key="sb:keep",
                icon=":material/bookmark_add:",
            )
            c2.button(
                "To folder",
                on_click=_save,
                args=(True,),
                key="sb:to_folder",
                icon=":material/save:",
                disabled=not folder_save.enabled(),
                help="Write it as a new file in the scenarios folder on the server (never replaces one)."
                if folder_save.enabled()
                else f"Turned off on this server ({folder_save.SAVE_ENV}=0).",
            )
            text = applied_text(state.scenario().text, changes)
            st.download_button(
                "Download YAML",
                text,
                file_name=f"{slug(state.scenario().name)}.yaml",
                mime="application/x-yaml",
                icon=":material/download:",
                key="sb:download",
            )
        error = st.session_state.get("sb:upload_error")
        if error is not None:
            scenario_error(
                error, "Fix that line and upload the file again; the scenario you had open is unchanged."
            )
        message = state.notice()
        if message:
            st.info(md(message), icon=":material/info:")
        st.markdown("### Data source")
        slot = st.session_state[state.SOURCE_SLOT] = st.empty()  # Observe rewrites it (state.set_source)
        slot.caption(state.source_text())


def setup() -> None:
    """Every page's first line: the session's state (from the URL on first load), the sidebar, the URL."""
    state.init()
    sidebar()
    state.sync_url()
