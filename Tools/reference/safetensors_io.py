"""A small reader for the safetensors format, enough for framecast's files.

Layout: an 8-byte little-endian header length N, N bytes of JSON (tensor name -> dtype, shape,
data_offsets [begin, end) relative to the data area; optional "__metadata__": string -> string),
then the raw little-endian tensor bytes.
"""
import json
import struct

import torch

# safetensors dtype -> (torch dtype read from the bytes, bytes per element)
_DTYPES = {
    "F64": (torch.float64, 8),
    "F32": (torch.float32, 4),
    "F16": (torch.float16, 2),
    "BF16": (torch.bfloat16, 2),
    "I64": (torch.int64, 8),
    "I32": (torch.int32, 4),
    "I16": (torch.int16, 2),
    "U16": (torch.int16, 2),  # torch 1.13 has no uint16: read as int16, widened below
    "I8": (torch.int8, 1),
    "U8": (torch.uint8, 1),
    "BOOL": (torch.bool, 1),
}


class SafeTensorsError(Exception):
    pass


def read(path):
    """Returns (tensors: dict name -> torch.Tensor, metadata: dict str -> str).

    Half-precision floats (F16, BF16) are widened to float32, as framecast does when it loads a
    compact checkpoint; U16 becomes int32. Other dtypes keep their type.
    """
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise SafeTensorsError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise SafeTensorsError(f"{path}: header length {n} runs past the end of the file")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", None) or {}
    data = memoryview(blob)[8 + n:]
    tensors = {}
    for name, info in header.items():
        dtype = info["dtype"]
        if dtype not in _DTYPES:
            raise SafeTensorsError(f"{path}: {name} has unsupported dtype {dtype}")
        torch_dtype, size = _DTYPES[dtype]
        begin, end = info["data_offsets"]
        shape = list(info["shape"])
        count = 1
        for s in shape:
            count *= s
        if end - begin != count * size or end > len(data):
            raise SafeTensorsError(f"{path}: {name} has {end - begin} bytes for shape {shape} of {dtype}")
        if count == 0:
            t = torch.empty(shape, dtype=torch_dtype)
        else:
            # bytearray: a writable copy, so the tensor owns its memory
            t = torch.frombuffer(bytearray(data[begin:end]), dtype=torch_dtype).reshape(shape)
        if dtype in ("F16", "BF16"):
            t = t.float()
        elif dtype == "U16":
            t = t.to(torch.int32) & 0xFFFF
        tensors[name] = t
    return tensors, metadata


def config_of(metadata, path, expected_format):
    """The model config (a dict) recorded in a checkpoint's metadata."""
    if metadata.get("format") != expected_format:
        raise SafeTensorsError(f"{path}: not a {expected_format} checkpoint (format is {metadata.get('format')!r})")
    if "config" not in metadata:
        raise SafeTensorsError(f"{path}: checkpoint has no config")
    return json.loads(metadata["config"])


_WRITE_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8"}


def write(path, tensors, metadata=None):
    """Writes named tensors (float32/float16/int64/int32/uint8) and string metadata as safetensors."""
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        if t.dtype not in _WRITE_DTYPES:
            raise SafeTensorsError(f"{name}: cannot write dtype {t.dtype}")
        data = t.detach().contiguous().cpu().numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": _WRITE_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # keep the data area 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in chunks:
            f.write(data)
