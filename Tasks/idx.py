"""Read IDX files, the format of MNIST and Fashion-MNIST (LeCun et al., http://yann.lecun.com/exdb/mnist/).

An IDX file is big-endian: two zero bytes, one byte naming the element type, one byte giving the number of
dimensions d, then d unsigned 32-bit sizes, then the elements in C order. ``.gz`` files are decompressed.
"""

from __future__ import annotations

import gzip
import os

import numpy as np

ELEMENT_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The array stored in the IDX file at ``path`` (gzip-compressed if it ends in ``.gz``), native byte order."""
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as file:
        content = file.read()
    return parse_idx(content, source=path)


def parse_idx(content: bytes, source: str = "<bytes>") -> np.ndarray:
    """The array encoded by the IDX bytes ``content``; ``source`` names them in error messages."""
    if len(content) < 4 or content[0] != 0 or content[1] != 0:
        raise ValueError(f"{source} is not an IDX file: it must start with two zero bytes.")
    type_code, num_dimensions = content[2], content[3]
    if type_code not in ELEMENT_TYPES:
        valid = ", ".join(f"0x{code:02X}" for code in ELEMENT_TYPES)
        raise ValueError(f"{source} has IDX element type 0x{type_code:02X}; expected one of {valid}.")
    header_size = 4 + 4 * num_dimensions
    if len(content) < header_size:
        raise ValueError(f"{source} is truncated: its header needs {header_size} bytes.")
    shape = tuple(int(size) for size in np.frombuffer(content, dtype=">u4", count=num_dimensions, offset=4))
    dtype = ELEMENT_TYPES[type_code]
    num_elements = int(np.prod(shape, dtype=np.int64))
    expected_size = header_size + num_elements * dtype.itemsize
    if len(content) != expected_size:
        raise ValueError(
            f"{source} has {len(content)} bytes but its header (shape {shape}, {dtype.name}) implies {expected_size}."
        )
    data = np.frombuffer(content, dtype=dtype, count=num_elements, offset=header_size)
    return data.reshape(shape).astype(dtype.newbyteorder("="))
