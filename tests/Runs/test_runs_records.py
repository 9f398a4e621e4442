"""What is and is not a configuration's identity; a damaged configuration file is named; an unwritable results
path is found before anything runs; a TensorFlow already running with another thread count is a clear error."""

from dataclasses import dataclass, field

import pytest
import tensorflow as tf

from Runs.files import check_writable
from Runs.records import ConfigFileError, ConfigRecord
from Runs.threads import num_threads_in_use, use_num_threads


@dataclass
class Record(ConfigRecord):
    EXECUTION_FIELDS = ("progress",)

    task: str = "digits"
    task_options: dict = field(default_factory=dict)
    epochs: int = 1
    results_csv: str = "results/x.csv"
    progress: bool = True


def test_where_the_files_and_the_data_are_is_recorded_but_no_difference():
    recorded = Record(task_options={"data_dir": "/data/a", "labels": [0, 1]}, results_csv="x.csv")
    moved = Record(task_options={"data_dir": "/mnt/b", "labels": [0, 1]}, results_csv="./old/../x.csv",
                   progress=False)
    assert moved.differences(recorded) == {}
    changed = Record(task_options={"data_dir": "/mnt/b", "labels": [0]}, epochs=2)
    assert changed.differences(recorded) == {"epochs": (2, 1), "task_options": ({"labels": [0]}, {"labels": [0, 1]})}


@pytest.mark.parametrize("text", ['{"task": "digits", "epo', "[1, 2]", '{"epochs": 1, "colour": "red"}', ""])
def test_an_unreadable_configuration_file_is_named(tmp_path, text):
    path = tmp_path / "r.json"
    path.write_text(text)
    with pytest.raises(ConfigFileError, match=rf"{path} is not a readable Record"):
        Record.load(path)


def test_an_unwritable_results_path_is_named(tmp_path):
    (tmp_path / "a_file").write_text("")
    with pytest.raises(PermissionError, match=r"Cannot write the results .*a_file/r\.csv"):
        check_writable(tmp_path / "a_file" / "r.csv")


def test_a_running_tensorflow_cannot_change_its_thread_count():
    tf.constant(1.0) + 1.0  # the runtime has started
    in_use = num_threads_in_use()
    use_num_threads(in_use)  # the same count: nothing to do
    with pytest.raises(RuntimeError, match=rf"already runs with {in_use} intra-op[\s\S]*Restart the kernel"):
        use_num_threads(in_use + 1)
