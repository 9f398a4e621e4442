import numpy as np
import pytest

from Tasks.idx import parse_idx, read_idx


@pytest.mark.parametrize("file_name", ["images-idx3-ubyte.gz", "images-idx3-ubyte"])
def test_reads_unsigned_bytes_compressed_or_not(tmp_path, idx_writer, file_name):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    idx_writer(tmp_path / file_name, array)
    read = read_idx(tmp_path / file_name)
    assert read.dtype == np.uint8 and read.shape == (2, 3, 4)
    np.testing.assert_array_equal(read, array)


def test_reads_big_endian_integers_in_native_order(tmp_path, idx_writer):
    array = np.array([[1, -2], [70000, 3]], dtype=np.int32)
    idx_writer(tmp_path / "ints.gz", array, type_code=0x0C, dtype=">i4")
    read = read_idx(tmp_path / "ints.gz")
    assert read.dtype == np.dtype(np.int32) and read.dtype.isnative
    np.testing.assert_array_equal(read, array)


def test_rejects_bad_magic_unknown_type_and_wrong_length():
    with pytest.raises(ValueError, match="two zero bytes"):
        parse_idx(b"\x01\x00\x08\x01\x00\x00\x00\x01\x05")
    with pytest.raises(ValueError, match="element type 0x07"):
        parse_idx(b"\x00\x00\x07\x01\x00\x00\x00\x01\x05")
    with pytest.raises(ValueError, match="implies 10"):
        parse_idx(b"\x00\x00\x08\x01\x00\x00\x00\x02\x05")
