"""``gridcore tokens``: issued once, stored hashed, listed without secrets, revoked at once."""

from __future__ import annotations

import hashlib
from pathlib import Path

from click.testing import CliRunner
from servicekit import make_store

from gridcore import Engine
from gridcore_app.cli import main_group
from gridcore_app.service import auth


def gridcore(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main_group, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_a_token_is_shown_once_stored_hashed_and_revoked_at_once(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.db'}"
    make_store(store)
    code, out, err = gridcore("tokens", "issue", "yq-gl1", "--label", "网格长的手机", "--store", store)
    assert code == 0, err
    secret = out.strip()
    prefix, ident, key = secret.split("_", 2)
    assert prefix == "gct" and len(key) >= 40  # 32 random bytes
    assert f"token {ident} for yq-gl1 issued; it is shown only this once" in err

    # The store keeps the hash of the secret, never the secret.
    with Engine.open(store=store, create=False) as engine:
        kept = dict(engine.store.items(auth.TOKENS))[ident]
        assert kept["sha256"] == hashlib.sha256(key.encode()).hexdigest()
        assert key not in repr(dict(engine.store.items(auth.TOKENS)))
        assert auth.check(engine.store, secret) is not None
        assert auth.check(engine.store, f"gct_{ident}_{key[:-1]}x") is None  # a wrong secret proves nothing

    code, out, _ = gridcore("tokens", "list", "--store", store, "--format", "csv")
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith(f"{ident},"))
    assert row.split(",")[1:3] == ["yq-gl1", "网格长的手机"] and row.endswith(",")  # not revoked
    assert key not in out

    code, out, err = gridcore("tokens", "revoke", secret, "--store", store)  # the whole token names it too
    assert code == 0, err
    assert out.startswith(f"token {ident} of yq-gl1 revoked (")
    with Engine.open(store=store, create=False) as engine:
        assert auth.check(engine.store, secret) is None
    code, out, _ = gridcore("tokens", "list", "--store", store, "--format", "csv")
    assert not next(line for line in out.splitlines() if line.startswith(f"{ident},")).endswith(",")
    assert gridcore("tokens", "revoke", ident, "--store", store)[0] == 0  # twice is harmless


def test_unknown_members_and_tokens_are_clear_errors_that_change_nothing(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'store.db'}"
    make_store(store)
    with Engine.open(store=store, create=False) as engine:
        before = dict(engine.store.items(auth.TOKENS))
    code, out, err = gridcore("tokens", "issue", "nobody", "--store", store)
    assert code == 1 and out == ""
    assert "unknown member 'nobody': not on the roster nor a registered resident" in err
    code, _, err = gridcore("tokens", "issue", "system", "--store", store)
    assert code == 1 and "unknown member 'system'" in err
    code, _, err = gridcore("tokens", "revoke", "abcdef012345", "--store", store)
    assert code == 1 and "no token 'abcdef012345'" in err
    code, _, err = gridcore("tokens", "list", "--store", str(tmp_path / "missing"))
    assert code == 1 and "missing" in err
    with Engine.open(store=store, create=False) as engine:
        assert dict(engine.store.items(auth.TOKENS)) == before
