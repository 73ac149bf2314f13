"""``gpc soak``'s command line: help, and settings refused in one line before anything
starts (no node, no run folder)."""

import pytest

from gpc_planner.cli.main import main


def test_help(capsys):
    with pytest.raises(SystemExit) as code:
        main(["soak", "--help"])
    out = capsys.readouterr().out
    assert code.value.code == 0 and "usage: gpc soak" in out and "mocap_dropout" in out


@pytest.mark.parametrize("args, needle", [
    (["lockstep:=true"], "real time"),
    (["duration:=5"], "option --duration"),
    (["--faults", "5", "--duration", "100"], "do not fit"),
    (["--faults", "1", "--down-min", "5", "--down-max", "2"], "more than --down-max"),
    (["--kinds", "reboot"], "unknown fault kind"),
    (["nope:=1"], "unknown launch argument"),
])
def test_bad_settings_are_one_line_and_start_nothing(args, needle, tmp_path, capsys,
                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["soak", "--out", str(tmp_path / "run"), *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()
