"""A class graded in shards, one per machine, and merged: the merged gradebook is the one
a single batch writes, and a merge of shards that do not make one class is refused with
what was expected, what was found and what to do."""

import csv
import fnmatch
import hashlib
import io
import json
import shlex
import shutil
import zipfile

import pytest
import yaml

from grader.exercises.rubric import load_rubric
from grader.frontends import batch
from grader.frontends.cli import build_parser, main
from grader.frontends.merge import merge
from grader.frontends.shards import RECORD, Shard, ShardError, parse, share
from tests.conftest import EXERCISES, ROOT, SOLUTIONS, shared
from tests.test_batch import METADATA

SEED = 1234


@shared
def sharded(tmp_path_factory):
    """A small class in several layouts, graded in one batch and in 3 shards, and the
    shards merged."""
    base = tmp_path_factory.mktemp("sharded")
    root = base / "class"
    shutil.copytree(SOLUTIONS, root / "alice")
    shutil.copytree(EXERCISES, root / "bob")
    with zipfile.ZipFile(root / "carol.zip", "w") as z:
        for file in SOLUTIONS.glob("*.py"):
            z.write(file, f"carol/exercises/{file.name}")
    shutil.copytree(SOLUTIONS, root / "submission_1001")
    (root / "submission_metadata.yml").write_text(METADATA)
    (root / "frank.zip").write_text("not a zip at all")
    rubric = load_rubric()
    batch.run(root, base / "whole", rubric, jobs=2, seed=SEED)
    folders = [base / f"shard-{k}" for k in (1, 2, 3)]
    outcomes = [batch.run(root, f, rubric, jobs=2, seed=SEED, shard=Shard(k, 3)) for k, f in enumerate(folders, 1)]
    merge(folders, base / "merged")
    return base, folders, outcomes


def rows(folder):
    return list(csv.reader(io.StringIO((folder / "gradebook.csv").read_text())))


def copied(folders, tmp_path):
    """The shards' folders, copied to be spoilt."""
    return [shutil.copytree(f, tmp_path / f.name) for f in folders]


def edit_json(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def test_the_merged_gradebook_of_three_shards_equals_the_unsharded_one_cell_by_cell(sharded):
    base, _, _ = sharded
    whole, merged = rows(base / "whole"), rows(base / "merged")
    assert len(merged) == 6  # the header and 5 submissions
    for expected, found in zip(whole, merged):
        assert found == expected
    assert len(merged) == len(whole)
    assert (base / "merged" / "summary.md").read_text() == (base / "whole" / "summary.md").read_text()
    assert sorted(p.name for p in (base / "merged" / batch.REPORTS).iterdir()) == sorted(
        p.name for p in (base / "whole" / batch.REPORTS).iterdir()
    )


def test_the_merged_folder_is_one_batch_s_whose_manifest_vouches_for_every_report(sharded):
    base, _, _ = sharded
    manifest = batch.read_manifest(base / "merged")
    assert manifest["seed"] == SEED and len(manifest["reports"]) == 5
    for name, digest in manifest["reports"].items():
        assert hashlib.sha256((base / "merged" / batch.REPORTS / f"{name}.json").read_bytes()).hexdigest() == digest


def test_each_shard_grades_its_own_share_and_together_they_cover_the_class_once(sharded):
    _, folders, outcomes = sharded
    graded = [sorted(o.name for o in shard) for shard in outcomes]
    assert sorted(name for shard in graded for name in shard) == ["alice", "bob", "carol", "frank", "submission_1001"]
    assert sorted(map(len, graded)) == [1, 2, 2]  # round robin: no share more than one larger than another
    for folder in folders:
        assert json.loads((folder / RECORD).read_text())["seed"] == SEED


def test_a_share_is_every_nth_submission_from_the_kth():
    assert share(list("abcdefg"), Shard(2, 3)) == ["b", "e"]
    assert share(list("ab"), Shard(3, 3)) == []
    assert parse("2/3") == Shard(2, 3)
    for wrong in ("0/3", "4/3", "3", "a/b", "-1/2"):
        with pytest.raises(ShardError, match="expected K/N with 1 <= K <= N"):
            parse(wrong)


def test_a_missing_shard_is_refused_with_the_command_that_grades_it(sharded, tmp_path):
    _, folders, _ = sharded
    with pytest.raises(ShardError, match=rf"got 1/3, 3/3: shard 2/3 is missing; .*--shard 2/3 --seed {SEED}"):
        merge([folders[0], folders[2]], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_shard_given_twice_is_refused(sharded, tmp_path):
    _, folders, _ = sharded
    with pytest.raises(ShardError, match="shard 1/3 is given twice"):
        merge([folders[0], *folders], tmp_path / "out")


def test_a_submission_graded_in_two_shards_is_refused_with_both_folders(sharded, tmp_path):
    _, folders, _ = sharded
    one, two, three = copied(folders, tmp_path)
    name = json.loads((one / RECORD).read_text())["submissions"][0]  # shard 1's
    shutil.copy(one / batch.REPORTS / f"{name}.json", two / batch.REPORTS)
    edit_json(two / batch.MANIFEST, lambda m: m["reports"].update({name: batch.read_manifest(one)["reports"][name]}))
    with pytest.raises(ShardError, match=rf"{name} is graded in two shards, .*shard-1 \(shard 1/3\) and .*shard-2"):
        merge([one, two, three], tmp_path / "out")


def test_shards_of_different_seeds_counts_or_classes_are_refused(sharded, tmp_path):
    _, folders, _ = sharded
    one, two, three = copied(folders, tmp_path)
    edit_json(three / RECORD, lambda r: r.update(seed=SEED + 1))
    with pytest.raises(ShardError, match=rf"seed {SEED} but .* on seed {SEED + 1}: .*same --seed"):
        merge([one, two, three], tmp_path / "out")
    edit_json(three / RECORD, lambda r: r.update(seed=SEED, of=4))
    with pytest.raises(ShardError, match="is shard 1/3 but .* is shard 3/4: expected one N"):
        merge([one, two, three], tmp_path / "out")
    edit_json(three / RECORD, lambda r: r.update(of=3, submissions=r["submissions"][:-1]))
    with pytest.raises(ShardError, match=r"different classes: 5 and 4 submissions \(submission_1001 in one"):
        merge([one, two, three], tmp_path / "out")


def test_a_shard_without_the_report_of_a_submission_of_its_share_is_refused(sharded, tmp_path):
    _, folders, _ = sharded
    spoilt = copied(folders, tmp_path)
    name = share(json.loads((spoilt[2] / RECORD).read_text())["submissions"], Shard(3, 3))[0]
    (spoilt[2] / batch.REPORTS / f"{name}.json").unlink()
    with pytest.raises(ShardError, match=rf"shard 3/3 .* has no report of {name} .*run the same .*--shard 3/3"):
        merge(spoilt, tmp_path / "out")


def test_a_shard_whose_gradebook_lacks_a_row_is_refused(sharded, tmp_path):
    _, folders, _ = sharded
    spoilt = copied(folders, tmp_path)
    path = spoilt[0] / "gradebook.csv"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))
    with pytest.raises(ShardError, match=r"has rows for 1 of the 2 submissions of shard 1/3"):
        merge(spoilt, tmp_path / "out")


def test_shards_graded_on_different_rubrics_are_refused(sharded, tmp_path):
    _, folders, _ = sharded
    spoilt = copied(folders, tmp_path)
    name = share(json.loads((spoilt[1] / RECORD).read_text())["submissions"], Shard(2, 3))[0]
    report = spoilt[1] / batch.REPORTS / f"{name}.json"
    edit_json(report, lambda r: r.update(max_score=r["max_score"] + 1))
    digest = hashlib.sha256(report.read_bytes()).hexdigest()
    edit_json(spoilt[1] / batch.MANIFEST, lambda m: m["reports"].update({name: digest}))
    with pytest.raises(ShardError, match="different rubrics .*same --rubric"):
        merge(spoilt, tmp_path / "out")


def test_the_merge_never_writes_into_a_folder_that_holds_files(sharded, tmp_path):
    _, folders, _ = sharded
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "gradebook.csv").write_text("mine")
    with pytest.raises(ShardError, match="is not empty: merge into a new or empty folder"):
        merge(folders, tmp_path / "out")


def test_the_commands_refuse_a_shard_without_a_seed_and_a_merge_that_fails(sharded, tmp_path, capsys):
    base, folders, _ = sharded
    assert main(["batch", str(base / "class"), "--out", str(tmp_path / "x"), "--shard", "1/3"]) == 2
    assert "--shard needs --seed" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["batch", str(base / "class"), "--out", str(tmp_path / "x"), "--shard", "4/3", "--seed", "1"])
    assert "expected K/N" in capsys.readouterr().err
    assert main(["merge", str(folders[0]), "--out", str(tmp_path / "m")]) == 2
    assert "shard 2/3, 3/3 is missing" in capsys.readouterr().err
    assert main(["merge", *map(str, folders), "--out", str(tmp_path / "m")]) == 0
    assert f"merged 3 shards: 5 submissions on seed {SEED}" in capsys.readouterr().out


def test_the_documented_workflow_grades_each_shard_in_a_job_of_a_matrix_and_merges_their_artifacts():
    page = (ROOT / "docs" / "instructors.md").read_text()
    jobs = yaml.safe_load(page.split("```yaml\n")[1].split("```")[0])["jobs"]
    shard, merging = jobs["shard"], jobs["merge"]
    assert (
        shard["strategy"]["matrix"]["shard"] == [1, 2, 3] and shard["needs"] == "seed" and merging["needs"] == "shard"
    )
    upload = next(step for step in shard["steps"] if step.get("uses") == "actions/upload-artifact@v4")
    download = next(step for step in merging["steps"] if step.get("uses") == "actions/download-artifact@v4")
    assert fnmatch.fnmatch(upload["with"]["name"].replace("${{ matrix.shard }}", "2"), download["with"]["pattern"])
    assert not download["with"].get("merge-multiple")  # each shard in a folder of its own
    # The commands, as a job runs them (the matrix's and the seed job's values put in), are the CLI's.
    grading = next(step["run"] for step in shard["steps"] if "batch" in step.get("run", ""))
    grading = grading.replace("${{ matrix.shard }}", "2").replace("${{ needs.seed.outputs.seed }}", "5")
    args = build_parser().parse_args(shlex.split(grading)[1:])
    assert (args.shard, args.seed, f"{args.out}/") == (Shard(2, 3), 5, upload["with"]["path"])
    merging_run = next(step["run"] for step in merging["steps"] if "merge" in step.get("run", ""))
    args = build_parser().parse_args(shlex.split(merging_run)[1:])
    assert args.shards == [f"{download['with']['path']}/{download['with']['pattern']}"]
    assert "outputs" in jobs["seed"] and "secrets.randbits" in jobs["seed"]["steps"][0]["run"]


def test_a_record_that_names_a_path_rather_than_a_submission_is_refused(sharded, tmp_path):
    _, folders, _ = sharded
    spoilt = copied(folders, tmp_path)
    for folder in spoilt:
        edit_json(folder / RECORD, lambda r: r["submissions"].append("../../escaped"))
    with pytest.raises(ShardError, match="cannot be read as a shard's record"):
        merge(spoilt, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_documented_workflow_installs_the_grader_from_the_course_repository_it_checks_out():
    page = (ROOT / "docs" / "instructors.md").read_text()
    jobs = yaml.safe_load(page.split("```yaml\n")[1].split("```")[0])["jobs"]
    for name in ("shard", "merge"):
        steps = jobs[name]["steps"]
        assert steps[0].get("uses") == "actions/checkout@v4", name
        install = next(step["run"] for step in steps if "pip install" in step.get("run", ""))
        assert "pip install ." in install and "install backprop-ninja" not in install, name
