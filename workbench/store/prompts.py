"""Named prompts and their versions.

Every edit is written at once into the prompt's draft: the newest version, not yet frozen. "Save
version" freezes the draft with an optional note; the next edit starts a new draft. Restoring an old
version never rewrites history: it freezes a new version equal to the old one (after freezing any
unsaved draft, so nothing typed is lost). A frozen version never changes, so a run can point at it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from workbench.store.columns import dumps, now
from workbench.store.migrations import migration

if TYPE_CHECKING:
    import sqlite_utils

    from workbench.store.db import Database

DEFAULT_PROMPT = "default"
# The parts of a version the user edits (and that a draft compares against the last frozen one).
CONTENT_FIELDS = ("system", "template", "ft_system", "ft_model", "model", "params", "variables")
# What makes a new version when a run is recorded: variable values are inputs, not the prompt.
PROMPT_FIELDS = ("system", "template", "ft_system", "ft_model", "model", "params")


@migration
def p001_prompts_and_versions(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        create table prompts (
            id integer primary key,
            name text not null unique,
            created_at text not null,
            updated_at text not null
        )"""
    )
    db.execute(
        """
        create table prompt_versions (
            id integer primary key,
            prompt_id integer not null references prompts(id) on delete cascade,
            number integer not null,          -- 1, 2, 3... within the prompt
            system text not null default '',
            template text not null default '',
            ft_system text,                   -- null: the fine-tuned approach uses `system`
            ft_model text not null default '',
            model text not null default '',
            params text not null default '{}',
            variables text not null default '{}',
            note text not null default '',
            draft integer not null default 1, -- 1 while edits still go into it
            created_at text not null,
            updated_at text not null,
            unique (prompt_id, number)
        )"""
    )


@dataclass
class Prompt:
    id: int
    name: str
    created_at: str
    updated_at: str
    versions: int = 0


@dataclass
class PromptVersion:
    id: int
    prompt_name: str
    number: int
    system: str = ""
    template: str = ""
    ft_system: str | None = None
    ft_model: str = ""
    model: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    draft: bool = True
    created_at: str = ""
    updated_at: str = ""

    @property
    def label(self) -> str:
        return f"v{self.number}" + (" (draft)" if self.draft else "")

    def content(self, names: tuple[str, ...] = CONTENT_FIELDS) -> dict[str, Any]:
        return {n: getattr(self, n) for n in names}


def _version(row: dict[str, Any], prompt_name: str) -> PromptVersion:
    return PromptVersion(
        id=row["id"],
        prompt_name=prompt_name,
        number=row["number"],
        system=row["system"],
        template=row["template"],
        ft_system=row["ft_system"],
        ft_model=row["ft_model"],
        model=row["model"],
        params=json.loads(row["params"]),
        variables=json.loads(row["variables"]),
        note=row["note"],
        draft=bool(row["draft"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _prompt_row(db: Database, name: str) -> dict[str, Any] | None:
    return next(db.rows("select * from prompts where name = ?", [name]), None)


# --- prompts ----------------------------------------------------------------------------------


def list_prompts(db: Database) -> list[Prompt]:
    rows = db.rows(
        """select p.*, (select count(*) from prompt_versions v where v.prompt_id = p.id) as versions
           from prompts p order by p.name"""
    )
    return [Prompt(**{f.name: r[f.name] for f in fields(Prompt)}) for r in rows]


def most_recent_prompt(db: Database) -> str | None:
    """The name of the prompt edited last (where the user left off), if there is any."""
    row = next(db.rows("select name from prompts order by updated_at desc, id desc limit 1"), None)
    return row["name"] if row else None


def create_prompt(
    db: sqlite_utils.Database, name: str, copy_from: str | None = None, **content: Any
) -> PromptVersion:
    """A new named prompt with a first draft (a copy of `copy_from`'s latest version, if given)."""
    name = name.strip()
    if not name:
        raise ValueError("a prompt needs a name")
    with db.atomic():
        if _prompt_row(db, name) is not None:
            raise ValueError(f"there is already a prompt named {name!r}")
        start: dict[str, Any] = {}
        if copy_from:
            source = latest_version(db, copy_from)
            if source is not None:
                start = source.content()
        start.update(content)
        stamp = now()
        db.execute(
            "insert into prompts (name, created_at, updated_at) values (?, ?, ?)",
            [name, stamp, stamp],
        )
        return save_draft(db, name, **start)


def ensure_prompt(db: sqlite_utils.Database, name: str, **content: Any) -> PromptVersion:
    """The prompt's latest version, creating the prompt (with `content`) if it does not exist."""
    version = latest_version(db, name)
    if version is not None:
        return version
    with db.atomic():  # under the write lock: another window may be creating it too
        version = latest_version(db, name)
        if version is not None:
            return version
        if _prompt_row(db, name) is None:
            return create_prompt(db, name, **content)
        return save_draft(db, name, **content)


def rename_prompt(db: sqlite_utils.Database, old: str, new: str) -> None:
    """Rename a prompt; its runs and few-shot selection follow it."""
    new = new.strip()
    if not new:
        raise ValueError("a prompt needs a name")
    if new == old:
        return
    with db.atomic():
        if _prompt_row(db, new) is not None:
            raise ValueError(f"there is already a prompt named {new!r}")
        if _prompt_row(db, old) is None:
            raise KeyError(f"no prompt named {old!r}")
        db.execute("update prompts set name = ?, updated_at = ? where name = ?", [new, now(), old])
        if "runs" in db.table_names():
            db.execute("update runs set prompt_name = ? where prompt_name = ?", [new, old])
        if "few_shot_selections" in db.table_names():
            db.execute(
                "update few_shot_selections set prompt_name = ? where prompt_name = ?", [new, old]
            )


# --- versions ---------------------------------------------------------------------------------


def list_versions(db: Database, prompt_name: str) -> list[PromptVersion]:
    """Every version of a prompt, newest first."""
    row = _prompt_row(db, prompt_name)
    if row is None:
        return []
    return [
        _version(r, prompt_name)
        for r in db.rows(
            "select * from prompt_versions where prompt_id = ? order by number desc", [row["id"]]
        )
    ]


def latest_version(db: Database, prompt_name: str) -> PromptVersion | None:
    """The newest version (the draft when there is one): what the Prompt pane shows."""
    rows = list(
        db.rows(
            """select v.* from prompt_versions v join prompts p on p.id = v.prompt_id
               where p.name = ? order by v.number desc limit 1""",
            [prompt_name],
        )
    )
    return _version(rows[0], prompt_name) if rows else None


def latest_frozen(db: Database, prompt_name: str) -> PromptVersion | None:
    rows = list(
        db.rows(
            """select v.* from prompt_versions v join prompts p on p.id = v.prompt_id
               where p.name = ? and v.draft = 0 order by v.number desc limit 1""",
            [prompt_name],
        )
    )
    return _version(rows[0], prompt_name) if rows else None


def get_version(db: Database, version_id: int) -> PromptVersion:
    rows = list(
        db.rows(
            """select v.*, p.name as prompt_name from prompt_versions v
               join prompts p on p.id = v.prompt_id where v.id = ?""",
            [version_id],
        )
    )
    if not rows:
        raise KeyError(f"no prompt version with id {version_id}")
    return _version(rows[0], rows[0]["prompt_name"])


def _insert_version(
    db: sqlite_utils.Database, prompt_id: int, content: dict[str, Any], draft: bool, note: str = ""
) -> int:
    number = db.execute(
        "select coalesce(max(number), 0) + 1 from prompt_versions where prompt_id = ?", [prompt_id]
    ).fetchone()[0]
    stamp = now()
    cursor = db.execute(
        """insert into prompt_versions (prompt_id, number, system, template, ft_system, ft_model,
                                        model, params, variables, note, draft, created_at, updated_at)
           values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            prompt_id,
            number,
            content.get("system") or "",
            content.get("template") or "",
            content.get("ft_system"),
            content.get("ft_model") or "",
            content.get("model") or "",
            dumps(content.get("params") or {}, sort_keys=True),
            dumps(content.get("variables") or {}, sort_keys=True),
            note,
            1 if draft else 0,
            stamp,
            stamp,
        ],
    )
    db.execute("update prompts set updated_at = ? where id = ?", [stamp, prompt_id])
    return cursor.lastrowid


def _normal(content: dict[str, Any]) -> dict[str, Any]:
    """Content compared as stored (None/'' and missing dicts are the same thing)."""
    out = {}
    for key in CONTENT_FIELDS:
        value = content.get(key)
        if key in ("params", "variables"):
            value = json.loads(dumps(value or {}, sort_keys=True))
        elif key != "ft_system":
            value = value or ""
        out[key] = value
    return out


class DraftConflict(Exception):
    """The draft was changed elsewhere (another window) since this caller loaded it."""

    def __init__(self, prompt_name: str, stored: PromptVersion | None) -> None:
        super().__init__(f"prompt {prompt_name!r} was changed in another window")
        self.prompt_name = prompt_name
        self.stored = stored


def same_prompt(a: PromptVersion | None, b: PromptVersion | None) -> bool:
    """Same version row with the same content: nothing changed between the two reads."""
    if a is None or b is None:
        return a is b
    return a.id == b.id and a.draft == b.draft and _normal(a.content()) == _normal(b.content())


def save_draft(
    db: sqlite_utils.Database,
    prompt_name: str,
    base: PromptVersion | None = None,
    **changes: Any,
) -> PromptVersion:
    """Write edits into the prompt's draft (starting one after a frozen version if they change it).

    Unknown field names are refused; fields not given keep their current values. With `base` (the
    version the caller loaded or last saved), a draft changed since by someone else raises
    DraftConflict instead of being overwritten. Reads and write happen under one write lock.
    """
    unknown = set(changes) - set(CONTENT_FIELDS)
    if unknown:
        raise ValueError(f"cannot save {', '.join(sorted(unknown))} in a prompt version")
    with db.atomic():
        row = _prompt_row(db, prompt_name)
        if row is None:
            raise KeyError(f"no prompt named {prompt_name!r}")
        latest = latest_version(db, prompt_name)
        if base is not None and not same_prompt(base, latest):
            raise DraftConflict(prompt_name, latest)
        content = latest.content() if latest else {}
        content.update(changes)
        if latest is not None and latest.draft:
            _update_draft(db, latest.id, content)
            db.execute("update prompts set updated_at = ? where id = ?", [now(), row["id"]])
            version_id = latest.id
        elif latest is not None and _normal(content) == _normal(latest.content()):
            return latest  # nothing changed since the frozen version
        else:
            version_id = _insert_version(db, row["id"], content, draft=True)
        return get_version(db, version_id)


def _update_draft(db: sqlite_utils.Database, version_id: int, content: dict[str, Any]) -> None:
    db.execute(
        """update prompt_versions set system = ?, template = ?, ft_system = ?, ft_model = ?,
               model = ?, params = ?, variables = ?, updated_at = ? where id = ?""",
        [
            content.get("system") or "",
            content.get("template") or "",
            content.get("ft_system"),
            content.get("ft_model") or "",
            content.get("model") or "",
            dumps(content.get("params") or {}, sort_keys=True),
            dumps(content.get("variables") or {}, sort_keys=True),
            now(),
            version_id,
        ],
    )


AUTO_RUN_NOTE = "auto-saved for a run"


def save_version(db: sqlite_utils.Database, prompt_name: str, note: str = "") -> PromptVersion:
    """Freeze the draft as a version (with an optional note) and return it.

    With no draft (nothing changed since the last version, e.g. a run froze it) the last version
    is returned with the note attached: it replaces the automatic note a run leaves, and follows
    a note the user wrote before ("first · second"). A typed note is never dropped.
    """
    with db.atomic():
        latest = latest_version(db, prompt_name)
        if latest is None:
            raise KeyError(f"prompt {prompt_name!r} has no version to save")
        if latest.draft:
            db.execute(
                "update prompt_versions set draft = 0, note = ?, created_at = ?, updated_at = ? "
                "where id = ?",
                [note.strip(), now(), now(), latest.id],
            )
        elif note.strip() and note.strip() != latest.note:
            kept = latest.note if latest.note and latest.note != AUTO_RUN_NOTE else ""
            joined = f"{kept} · {note.strip()}" if kept else note.strip()
            db.execute("update prompt_versions set note = ? where id = ?", [joined, latest.id])
        return get_version(db, latest.id)


def restore_version(db: sqlite_utils.Database, version_id: int) -> PromptVersion:
    """A new frozen version equal to `version_id`; an unsaved draft is frozen first, never lost."""
    with db.atomic():
        old = get_version(db, version_id)
        row = _prompt_row(db, old.prompt_name)
        assert row is not None
        latest = latest_version(db, old.prompt_name)
        if latest is not None and latest.draft:
            previous = latest_frozen(db, old.prompt_name)
            if previous is None or _normal(previous.content()) != _normal(latest.content()):
                save_version(db, old.prompt_name, note=f"saved before restoring v{old.number}")
            else:
                db.execute("delete from prompt_versions where id = ?", [latest.id])
        new_id = _insert_version(
            db, row["id"], old.content(), draft=False, note=f"restored from v{old.number}"
        )
        return get_version(db, new_id)


def _prompt_only(content: dict[str, Any]) -> dict[str, Any]:
    """The content that makes a version (variable values are per-run inputs, not the prompt)."""
    return _normal(content) | {"variables": None}


def version_for_run(
    db: sqlite_utils.Database, prompt_name: str, sent: dict[str, Any] | None = None
) -> PromptVersion:
    """The frozen version a run is recorded against.

    `sent` is the content the run actually sends (the caller's in-memory prompt). If the stored
    draft differs from it (another window saved something else meanwhile), what is sent is what
    gets frozen, so a run always points at exactly what it used. If the draft changed the prompt
    itself (not just variable values) since the last frozen version, it is frozen now ("auto-saved
    for a run").
    """
    with db.atomic():
        latest = latest_version(db, prompt_name)
        if latest is None:
            raise KeyError(f"prompt {prompt_name!r} has no version")
        if sent is not None and _prompt_only(sent) != _prompt_only(latest.content()):
            row = _prompt_row(db, prompt_name)
            assert row is not None
            content = latest.content() | {k: v for k, v in sent.items() if k in CONTENT_FIELDS}
            if latest.draft:
                _update_draft(db, latest.id, content)
            else:
                _insert_version(db, row["id"], content, draft=True)
            latest = latest_version(db, prompt_name)
            assert latest is not None
        if not latest.draft:
            return latest
        frozen = latest_frozen(db, prompt_name)
        if frozen is not None and _prompt_only(frozen.content()) == _prompt_only(latest.content()):
            return frozen
        return save_version(db, prompt_name, note=AUTO_RUN_NOTE)
