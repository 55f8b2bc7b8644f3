"""CURVE: on a shared network only players whose key the director knows can join."""

import pytest

from harness.errors import ConfigError, PlayerFailed
from harness.orchestra import (
    CurveClient,
    CurveServer,
    Ensemble,
    EventKind,
    Player,
    PlayerConfig,
    generate_keypair,
)


@pytest.fixture
def keys(tmp_path):
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    _, director_secret = generate_keypair(tmp_path / "director", "director")
    known_public, known_secret = generate_keypair(tmp_path / "known", "known")
    _, stranger_secret = generate_keypair(tmp_path / "stranger", "stranger")
    (allowed / "known.key").write_bytes(known_public.read_bytes())
    return {"server": CurveServer(director_secret, allowed), "director_public": tmp_path / "director" / "director.key",
            "known": known_secret, "stranger": stranger_secret}


@pytest.fixture
def secure(keys, tmp_path):
    client = CurveClient(keys["known"], keys["director_public"])
    with Ensemble(curve_server=keys["server"], curve_client=client, heartbeat_s=0.2, liveness=5,
                  log_dir=tmp_path / "players") as ens:
        yield ens


def test_a_known_key_joins_and_runs_in_a_separate_process(secure):
    secure.add_player(PlayerConfig("known-det"))
    assert secure.run(count=5).ok


def test_an_unknown_key_is_refused_and_journaled(secure, keys):
    config = PlayerConfig("intruder", director=secure.endpoint, hello_timeout_s=1.5,
                          curve=CurveClient(keys["stranger"], keys["director_public"]))
    with pytest.raises(PlayerFailed, match="no welcome.*allowed keys"):
        Player(config, mode="thread").run()
    rejected = secure.journal.of_kind(EventKind.PLAYER_REJECTED)
    assert rejected and "not in the allowed keys directory" in rejected[0].detail
    assert not secure.director.players()


def test_a_player_without_curve_cannot_join_a_curve_director(secure):
    config = PlayerConfig("plain", director=secure.endpoint, hello_timeout_s=1.0)
    with pytest.raises(PlayerFailed, match="no welcome"):
        Player(config, mode="thread").run()
    assert not secure.director.players()


def test_missing_key_files_are_named(tmp_path):
    server = CurveServer(tmp_path / "nope.key_secret", tmp_path)
    with pytest.raises(ConfigError, match="nope.key_secret.*curve-keys"):
        Ensemble(curve_server=server).start()
    public, _ = generate_keypair(tmp_path, "d")
    with pytest.raises(ConfigError, match="no secret key"):
        Ensemble(curve_server=CurveServer(public, tmp_path)).start()
