"""protoc-gen-grpc_python: the gRPC Python generator of grpcio-tools, as a protoc plugin.

grpcio-tools ships its gRPC Python generator only inside ``grpc_tools.protoc``,
not as a plugin binary that another protoc (Bazel's, say) can call. This
plugin reads the ``CodeGeneratorRequest`` on stdin, hands its descriptors to
``grpc_tools.protoc`` (``--descriptor_set_in``) with ``--grpc_python_out``,
and answers with the files that run wrote, unchanged. So its output is what
``grpc_tools.protoc --grpc_python_out`` writes from the same .proto files,
byte for byte (tests/tooling/test_grpc_plugin.py checks it), and no C++
``grpc_python_plugin`` has to be built.

The plugin parameter, if any, is passed on as the generator's options.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2

#: What the generator handles: proto3 optional fields, which the contract uses.
SUPPORTED_FEATURES = plugin_pb2.CodeGeneratorResponse.FEATURE_PROTO3_OPTIONAL


def generate(request: plugin_pb2.CodeGeneratorRequest) -> plugin_pb2.CodeGeneratorResponse:
    """Run grpcio-tools' generator on the request's files; return its output."""
    from grpc_tools import protoc

    response = plugin_pb2.CodeGeneratorResponse(supported_features=SUPPORTED_FEATURES)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        descriptors = root / "descriptors.binpb"
        descriptors.write_bytes(
            descriptor_pb2.FileDescriptorSet(file=request.proto_file).SerializeToString()
        )
        out = root / "out"
        out.mkdir()
        options = f"{request.parameter}:" if request.parameter else ""
        args = [
            "grpc_tools.protoc",
            f"--descriptor_set_in={descriptors}",
            f"--grpc_python_out={options}{out}",
            *request.file_to_generate,
        ]
        if protoc.main(args) != 0:
            response.error = "grpc_tools.protoc failed on " + ", ".join(request.file_to_generate)
            return response
        for path in sorted(p for p in out.rglob("*") if p.is_file()):
            response.file.add(
                name=path.relative_to(out).as_posix(), content=path.read_text(encoding="utf-8")
            )
    return response


def main() -> None:
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    sys.stdout.buffer.write(generate(request).SerializeToString())


if __name__ == "__main__":
    main()
