"""The key of the pseudonyms of natural persons (dbt macro `person_key`).

A pseudonym is HMAC-SHA256(key, identifier) cut to 16 hex digits. Before, it was
md5(salt || identifier) with the salt's default in git: an ID number is a region, a birth
date and four more characters, so knowing a person's region and birth date, the analyst
role confirmed 5 of 5 legal representatives with at most 1,000 hashes each. Without the
key, a guess cannot be checked.

Where the key lives, and where it does not travel:
- the deployment's secret: GGZY_PSEUDONYM_KEY (environment, e.g. from a secrets store),
  else the Airflow connection ggzy_pseudonym_key given in the environment
  (AIRFLOW_CONN_GGZY_PSEUDONYM_KEY), else $GGZY_HOME/secrets/pseudonym.key, generated
  at the first start (32 random bytes, mode 600, directory 700). Never a default in git.
- in the warehouse: table vault.pseudonym_key, in a schema only the pipeline role (and
  the superuser) may use; `schema.bootstrap` installs the key in force. The dbt macro
  reads it with a subquery, so the key is never a literal in compiled SQL (dbt's
  target/), in statement logs or in a command line (`ps`).
- stored as the two HMAC pads (key XOR ipad, key XOR opad): HMAC is then two calls of
  PostgreSQL's built-in sha256(), with no extension (the embedded server has no
  pgcrypto) and the same result as hmac(identifier, key, 'sha256').

Rotation (docs/access.md): set a new key (new file content or variable), run
`ggzy warehouse start` (or any bootstrap), then `ggzy dbt build`: every pseudonym is
re-keyed (the models holding them are tables, rebuilt in full). Pseudonyms written
before — earlier exports, analysts' notes, saved queries — no longer match.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

import psycopg

from ggzy import config, settings

KEY_ENV = settings.PSEUDONYM_KEY.name
AIRFLOW_CONN_ENV = settings.PSEUDONYM_KEY_CONN.name
SCHEMA = "vault"
_BLOCK = 64  # SHA-256 block size


def key_file():
    return config.secrets_dir() / "pseudonym.key"


def _from_airflow_connection() -> str | None:
    """The password of Airflow connection `ggzy_pseudonym_key` when it is given the way
    Airflow reads connections from the environment (a URI such as `generic://:KEY@`, or
    JSON with a "password"): a deployment that keeps its secrets as Airflow connections."""
    import json
    from urllib.parse import unquote, urlsplit

    raw = (settings.PSEUDONYM_KEY_CONN.value() or "").strip()
    if not raw:
        return None
    if raw.startswith("{"):
        return json.loads(raw).get("password") or None
    return unquote(urlsplit(raw).password or "") or None


def key() -> bytes:
    """The deployment's key: GGZY_PSEUDONYM_KEY, else the Airflow connection
    ggzy_pseudonym_key, else the file's (created on first use)."""
    given = settings.PSEUDONYM_KEY.value() or _from_airflow_connection()
    if given:
        return given.strip().encode("utf-8")
    path = key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.parent.chmod(0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def pads(k: bytes) -> tuple[bytes, bytes]:
    """(key XOR ipad, key XOR opad) as RFC 2104 defines them."""
    if len(k) > _BLOCK:
        k = hashlib.sha256(k).digest()
    k = k.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in k), bytes(b ^ 0x5C for b in k)


def fingerprint(k: bytes) -> str:
    """Names a key in logs and in the vault without revealing it."""
    return hmac.new(k, b"ggzy pseudonym key fingerprint", hashlib.sha256).hexdigest()[:12]


def person_key(identifier: str, k: bytes) -> str:
    """What the dbt macro computes (for tests and for the office's own look-ups)."""
    digest = hmac.new(k, identifier.strip(" ").upper().encode("utf-8"), hashlib.sha256).hexdigest()
    return "p_" + digest[:16]


def install(conn: psycopg.Connection) -> str:
    """Create vault.pseudonym_key (idempotent) and put the key in force there; returns its
    fingerprint. Only the pipeline role is given the schema (roles.apply)."""
    k = key()
    ipad, opad = pads(k)
    fp = fingerprint(k)
    conn.execute(f"create schema if not exists {SCHEMA}")
    conn.execute(f"revoke all on schema {SCHEMA} from public")
    conn.execute(f"""create table if not exists {SCHEMA}.pseudonym_key (
        singleton boolean primary key default true check (singleton),
        ipad bytea not null,
        opad bytea not null,
        fingerprint text not null,
        installed_at timestamptz not null default now())""")
    conn.execute(f"revoke all on {SCHEMA}.pseudonym_key from public")
    conn.execute(f"""insert into {SCHEMA}.pseudonym_key (ipad, opad, fingerprint) values (%s, %s, %s)
        on conflict (singleton) do update set ipad = excluded.ipad, opad = excluded.opad,
            fingerprint = excluded.fingerprint, installed_at = now()
        where {SCHEMA}.pseudonym_key.fingerprint <> excluded.fingerprint""", (ipad, opad, fp))
    return fp
