"""Bad input: non-zero exit and one clear line."""

import pytest

from dljournal.cli import main


def one_line_error(capsys, argv, code=2):
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(argv))
    assert exc.value.code == code
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    return err


def test_unknown_report(capsys, repo_project):
    err = one_line_error(capsys, ["run", "--report", "cpsc8430_hw2x", "--list"])
    assert "unknown report 'cpsc8430_hw2x'" in err and "cpsc8430_hw1" in err


def test_unknown_experiment(capsys, repo_project):
    err = one_line_error(capsys, ["run", "--report", "cpsc8430_hw1", "--only", "EXP2", "--list"])
    assert "unknown experiment 'EXP2'" in err and "EXP02" in err


def test_bad_profile(capsys, repo_project):
    err = one_line_error(capsys, ["run", "--profile", "fast"])
    assert "invalid choice: 'fast'" in err


def test_bad_data_root_fails_with_the_path(capsys, repo_project, tmp_path):
    def argv(data_root):
        base = "run --report cpsc8430_hw1 --only EXP02 --profile quick".split()
        return [*base, "--data-root", str(data_root), "--build-dir", str(tmp_path / "b")]

    # no data root at all: one line, before anything runs
    err = one_line_error(capsys, argv(tmp_path / "nowhere"))
    assert f"data root {tmp_path / 'nowhere'} is not a folder (needed by EXP02 for mnist)" in err
    # a data root without the dataset: the experiment fails with one line naming the file
    (tmp_path / "empty").mkdir()
    code = main(argv(tmp_path / "empty"))
    assert code == 1
    err = capsys.readouterr().err
    assert f"file not found: {tmp_path / 'empty' / 'MNIST' / 'raw'}" in err and "Traceback" not in err


def test_list_shows_cache_state(capsys, repo_project, tmp_path):
    assert main(["run", "--list", "--profile", "smoke", "--build-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "EXP01" in out and "EXP02" in out and "missing" in out


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    out = capsys.readouterr().out
    explained = {
        "--report": "journal/",
        "--profile": "smoke",
        "--only": "run only these",
        "--force": "even when",
        "--data-root": "DLJOURNAL_DATA_ROOT",
        "--device": "cuda",
        "--list": "cache state",
        "--author": "title page",
        "--seed": "cache key",
        "--build-dir": "TensorBoard",
        "--offline": "download nothing",
    }
    flat = " ".join(out.split("options:", 1)[1].split())  # past the usage line; argparse wraps help text
    for option, words in explained.items():
        assert option in out
        # the option's own help line says what it does, not only that it exists
        help_text = flat.split(option, 1)[1][:400]
        assert words in help_text, f"{option}: {words!r} not in its help"
