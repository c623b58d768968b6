"""End to end: the files area, through both clients against the Go server.

File data moves in chunks: uploads take bytes, binary files or iterables
of chunks, and downloads come as bytes or as a stream of chunks. A 200 MiB
round trip keeps the memory of both processes bounded.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from worlds import make_room

import mattermost_plugin as mp
from mattermost_plugin.models import GetFileInfosOptions, Post, UploadSession

from conftest import GoServer, png

UNKNOWN_ID = "a" * 26
MIB = 1 << 20


def test_upload_and_download(api: Any) -> None:
    room = make_room(api)
    data = bytes(range(256)) * 9000  # about 2.2 MiB: several chunks
    info = api.upload_file(data, room.town.id, "notes.txt")
    assert (info.name, info.extension, info.size) == ("notes.txt", "txt", len(data))
    assert info.mime_type.startswith("text/plain") and info.creator_id == "nouser"
    assert api.get_file(info.id) == data
    assert api.get_file_info(info.id) == info
    assert api.read_file(info.path) == data
    image = api.upload_file(io.BytesIO(png(40, 30)), room.town.id, "pic.png")
    assert (image.width, image.height, image.mime_type) == (40, 30, "image/png")
    chunks = api.upload_file(iter([b"a" * 10, bytearray(b"b" * 5)]), room.town.id, "c.bin")
    assert api.get_file(chunks.id) == b"a" * 10 + b"b" * 5


def test_upload_failures(api: Any) -> None:
    room = make_room(api)
    # server/channels/app/file.go@deb347e7:App.UploadFileForUserAndTeam: a
    # channel that App.GetChannel does not find is a 400 of its own.
    for channel_id in (UNKNOWN_ID, "bad-id"):
        with pytest.raises(mp.ValidationError) as channel:
            api.upload_file(b"x", channel_id, "x.txt")
        assert channel.value.error_id == "api.file.upload_file.incorrect_channelId.app_error"
    with pytest.raises(mp.ValidationError) as name:
        api.upload_file(b"x", room.town.id, "../escape.txt")
    assert name.value.error_id == "api.file.upload_file.bad_filename.app_error"
    with pytest.raises(TypeError):
        api.upload_file("text is not bytes", room.town.id, "x.txt")
    with pytest.raises(TypeError):
        api.upload_file([b"ok", "not bytes"], room.town.id, "x.txt")
    cfg = mp.ServerConfig(api.get_config())
    cfg.data["FileSettings"]["MaxFileSize"] = 1000
    api.save_config(cfg.to_model())
    with pytest.raises(mp.ResourceExhaustedError) as big:
        api.upload_file(b"x" * 2000, room.town.id, "big.bin")
    assert big.value.status_code == 413
    # Nothing of the failed uploads was kept.
    assert api.get_file_infos(0, 10, GetFileInfosOptions()) == []


def test_a_refused_upload_always_gets_its_own_status(api: Any) -> None:
    """The server refuses the head while the client still sends data.

    A client write could break on the finished call before the status came
    back, which grpcio's asyncio client reported as INTERNAL; the server now
    reads what the client still sends before it answers.
    """
    chunks = [b"d" * (64 * 1024)] * 16
    for _ in range(40):
        with pytest.raises(mp.ValidationError):
            api.upload_file(iter(chunks), "c" * MIB, "x.txt")
        with pytest.raises(mp.ValidationError):
            api.upload_file(b"x", "bad-id", "x.txt")


def test_megabyte_upload_heads_keep_their_error(api: Any) -> None:
    room = make_room(api)
    with pytest.raises(mp.ValidationError) as name:
        api.upload_file(b"x", room.town.id, "n" * MIB)
    assert len(str(name.value)) < 4096
    with pytest.raises(mp.ValidationError):
        api.upload_file(b"x", "c" * MIB, "x.txt")
    with pytest.raises(mp.InternalError) as path:
        api.read_file("p" * MIB)
    assert len(str(path.value)) < 4096
    assert api.get_server_version()


def test_download_failures(api: Any) -> None:
    with pytest.raises(mp.NotFoundError):
        api.get_file(UNKNOWN_ID)
    # Server.ReadFile: any failure of the file backend is a 500.
    for path in ("no/such/file", "../../etc/passwd"):
        with pytest.raises(mp.InternalError) as unreadable:
            api.read_file(path)
        assert unreadable.value.error_id == "api.file.read_file.app_error"
    with pytest.raises(mp.NotFoundError):
        api.get_file_info(UNKNOWN_ID)


def test_a_malformed_file_id_is_not_found(api: Any) -> None:
    """Upstream looks any id up in the store, a malformed one too.

    server/channels/app/file.go@deb347e7:Server.getFileInfo (GetFileInfo,
    GetFile, SetFileSearchableContent; PluginAPI.GetFileLink and
    App.CopyFileInfos the same way) and
    server/channels/store/sqlstore/file_info_store.go@f6a2f45f:SqlFileInfoStore.get:
    no row is app.file_info.get.app_error, 404.
    """
    cfg = mp.ServerConfig(api.get_config())
    cfg.data["FileSettings"]["EnablePublicLink"] = True
    api.save_config(cfg.to_model())
    calls: list[tuple[str, tuple[Any, ...]]] = [
        ("get_file_info", ("bad-id",)),
        ("get_file", ("bad-id",)),
        ("set_file_searchable_content", ("bad-id", "x")),
        ("get_file_link", ("bad-id",)),
        ("copy_file_infos", (UNKNOWN_ID, ["bad-id"])),
    ]
    for name, args in calls:
        with pytest.raises(mp.NotFoundError) as missing:
            getattr(api, name)(*args)
        assert missing.value.error_id == "app.file_info.get.app_error", name


def test_file_infos(api: Any) -> None:
    room = make_room(api)
    small = api.upload_file(b"x", room.town.id, "small.txt")
    large = api.upload_file(b"x" * 100, room.town.id, "large.txt")
    by_size = api.get_file_infos(0, 10, GetFileInfosOptions(sort_by="Size", sort_descending=True))
    assert [f.id for f in by_size] == [large.id, small.id]
    assert [f.id for f in api.get_file_infos(1, 1, GetFileInfosOptions(sort_by="Size"))] == [
        large.id
    ]
    elsewhere = api.get_file_infos(0, 10, GetFileInfosOptions(channel_ids=[UNKNOWN_ID]))
    assert elsewhere == []


def test_file_infos_follow_the_store(api: Any) -> None:
    """server/channels/store/sqlstore/file_info_store.go@f6a2f45f:SqlFileInfoStore.GetWithOptions.

    Its errors become app.file_info.get_with_options.app_error (400) in
    server/channels/app/file.go@deb347e7:App.GetFileInfos; a per_page of 0
    answers an empty page before sort_by is read; the id breaks ties,
    ascending whatever the direction.
    """
    room = make_room(api)
    same = [api.upload_file(b"x" * 7, room.town.id, f"same{i}.txt") for i in range(3)]
    ids = sorted(f.id for f in same)
    by_size = api.get_file_infos(0, 10, GetFileInfosOptions(sort_by="Size", sort_descending=True))
    assert [f.id for f in by_size] == ids
    for page, per_page, sort_by in ((0, 10, "Name"), (0, -1, ""), (-1, 10, "")):
        with pytest.raises(mp.ValidationError) as bad:
            api.get_file_infos(page, per_page, GetFileInfosOptions(sort_by=sort_by))
        assert bad.value.error_id == "app.file_info.get_with_options.app_error"
    assert api.get_file_infos(0, 0, GetFileInfosOptions(sort_by="Name")) == []


def test_copy_file_infos_and_searchable_content(api: Any) -> None:
    room = make_room(api)
    info = api.upload_file(b"report", room.town.id, "report.txt")
    [copy_id] = api.copy_file_infos(room.alice.id, [info.id])
    copy = api.get_file_info(copy_id)
    assert copy.creator_id == room.alice.id and copy.path == info.path
    # server/channels/app/file.go@deb347e7:App.CopyFileInfos: the copy has
    # no post and no channel.
    assert (copy.post_id, copy.channel_id) == ("", "")
    assert api.get_file(copy_id) == b"report"
    # server/channels/store/sqlstore/file_info_store.go@f6a2f45f:SqlFileInfoStore.SetContent
    # sets the content alone.
    before = api.get_file_info(info.id)
    api.set_file_searchable_content(info.id, "quarterly report")
    after = api.get_file_info(info.id)
    assert after.content == "quarterly report" and after.update_at == before.update_at
    with pytest.raises(mp.NotFoundError):
        api.copy_file_infos(room.alice.id, [UNKNOWN_ID])


def test_copy_file_infos_follows_the_app_layer(api: Any) -> None:
    """server/channels/app/file.go@deb347e7:App.CopyFileInfos, file by file.

    It looks the file up first, then saves the copy, which
    server/public/model/file_info.go@25e0a9bd:FileInfo.IsValid checks: a
    user id that is neither an id nor "nouser" is refused there; the
    copies saved before a failure stay.
    """
    room = make_room(api)
    info = api.upload_file(b"report", room.town.id, "report.txt")
    with pytest.raises(mp.NotFoundError):
        api.copy_file_infos("bad-user", [UNKNOWN_ID])
    with pytest.raises(mp.ValidationError) as bad_user:
        api.copy_file_infos("bad-user", [info.id])
    assert bad_user.value.error_id == "model.file_info.is_valid.user_id.app_error"
    [nouser] = api.copy_file_infos("nouser", [info.id])
    assert api.get_file_info(nouser).creator_id == "nouser"
    with pytest.raises(mp.NotFoundError):
        api.copy_file_infos(room.alice.id, [info.id, UNKNOWN_ID])
    mine = api.get_file_infos(0, 10, GetFileInfosOptions(user_ids=[room.alice.id]))
    assert [f.name for f in mine] == ["report.txt"]
    with pytest.raises(mp.NotFoundError):
        api.set_file_searchable_content(UNKNOWN_ID, "x")


def test_file_links(api: Any) -> None:
    room = make_room(api)
    info = api.upload_file(b"shared", room.town.id, "shared.txt")
    with pytest.raises(mp.UnimplementedError):
        api.get_file_link(info.id)
    cfg = mp.ServerConfig(api.get_config())
    cfg.data["FileSettings"]["EnablePublicLink"] = True
    api.save_config(cfg.to_model())
    with pytest.raises(mp.ValidationError):
        api.get_file_link(info.id)  # not attached to a post yet
    post = Post(channel_id=room.town.id, user_id=room.alice.id, message="see", file_ids=[info.id])
    api.create_post(post)
    link = api.get_file_link(info.id)
    assert re.fullmatch(rf"http://localhost:8065/files/{info.id}/public\?h=[\w-]+", link)


def test_upload_sessions(api: Any) -> None:
    """App.UploadData: a first part of 5 MiB at least, then the stored offset."""
    room = make_room(api)
    data = os.urandom(5 * MIB + 10)
    session = api.create_upload_session(
        UploadSession(
            type="attachment",
            user_id=room.alice.id,
            channel_id=room.town.id,
            filename="resume.bin",
            file_size=len(data),
        )
    )
    assert api.get_upload_session(session.id).file_offset == 0
    assert api.upload_data(session, data[: 5 * MIB]) is None
    session = api.get_upload_session(session.id)
    assert session.file_offset == 5 * MIB
    info = api.upload_data(session, data[5 * MIB :])
    assert info is not None and info.size == len(data) and info.creator_id == room.alice.id
    assert info.id == session.id
    assert api.get_file(info.id) == data
    # A file that fits one part is sent whole; data past its size is not read.
    whole = api.create_upload_session(
        UploadSession(
            type="attachment",
            user_id=room.alice.id,
            channel_id=room.town.id,
            filename="x.bin",
            file_size=3,
        )
    )
    info = api.upload_data(whole, b"abc and more")
    assert info is not None and api.get_file(info.id) == b"abc"


def test_upload_session_failures(api: Any) -> None:
    room = make_room(api)
    with pytest.raises(mp.ValidationError) as bad_type:
        api.create_upload_session(UploadSession(type="photo", filename="x", file_size=1))
    assert bad_type.value.error_id == "model.upload_session.is_valid.type.app_error"
    with pytest.raises(mp.ValidationError) as no_channel:
        api.create_upload_session(
            UploadSession(
                type="attachment",
                user_id=room.alice.id,
                channel_id=UNKNOWN_ID,
                filename="x",
                file_size=1,
            )
        )
    assert no_channel.value.error_id == "app.upload.create.incorrect_channel_id.app_error"
    # App.GetUploadSession looks any id up: a malformed one is not found.
    for upload_id in (UNKNOWN_ID, "bad"):
        with pytest.raises(mp.NotFoundError) as missing:
            api.get_upload_session(upload_id)
        assert missing.value.error_id == "app.upload.get.app_error"
    session = api.create_upload_session(
        UploadSession(
            type="attachment",
            user_id=room.alice.id,
            channel_id=room.town.id,
            filename="x.bin",
            file_size=10,
        )
    )
    with pytest.raises(mp.ValidationError) as too_small:
        api.upload_data(session, b"short")
    assert too_small.value.error_id == "app.upload.upload_data.first_part_too_small.app_error"
    assert api.get_upload_session(session.id).file_offset == 0
    stale = UploadSession(id=session.id, file_offset=4)
    with pytest.raises(mp.ValidationError) as mismatch:
        api.upload_data(stale, b"x")
    assert mismatch.value.error_id == "app.upload.upload_data.concurrent.app_error"
    with pytest.raises(mp.NotFoundError):
        api.upload_data(UploadSession(id=UNKNOWN_ID), b"x")


def test_download_stream_can_be_closed_early(go_server: GoServer) -> None:
    with mp.Client(go_server.target, token=go_server.token) as api:
        room = make_room(api)
        info = api.upload_file(b"z" * (3 * MIB), room.town.id, "z.bin")
        with api.get_file_stream(info.id) as stream:
            first = next(stream)
        assert len(first) == MIB
        assert list(stream) == []
        assert api.get_file(info.id)[:3] == b"zzz"


def test_close_mid_download_raises_client_closed(go_server: GoServer) -> None:
    """A download cut short by close() fails; it never ends as a shorter file."""
    api = mp.Client(go_server.target, token=go_server.token)
    room = make_room(api)
    info = api.upload_file(b"d" * (32 * MIB), room.town.id, "d.bin")
    stream = api.get_file_stream(info.id)
    first = next(stream)
    api.close()
    try:
        rest = stream.read()
    except mp.ClientClosedError:
        pass  # cut short: an error, as it must be
    else:
        assert len(first) + len(rest) == 32 * MIB  # all had arrived before close()


async def test_async_close_mid_download_raises_client_closed(go_server: GoServer) -> None:
    """A download cut short by close() fails; what had all arrived may still be read."""
    api = mp.AsyncClient(go_server.target, token=go_server.token)
    from mattermost_plugin.models import Team

    team = await api.create_team(Team(name="core", display_name="Core", type="O"))
    town = await api.get_channel_by_name(team.id, "town-square", False)
    info = await api.upload_file(b"d" * (32 * MIB), town.id, "d.bin")
    stream = api.get_file_stream(info.id)
    first = await stream.__anext__()
    await api.close()
    try:
        rest = await stream.read()
    except mp.ClientClosedError:
        pass  # cut short: an error, as it must be
    else:
        assert len(first) + len(rest) == 32 * MIB  # all had arrived before close()


async def test_async_streams(go_server: GoServer) -> None:
    async with mp.AsyncClient(go_server.target, token=go_server.token) as api:
        teams = await api.get_teams()
        assert teams == []

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(3):
                await asyncio.sleep(0)
                yield b"q" * MIB

        from mattermost_plugin.models import Team

        team = await api.create_team(Team(name="core", display_name="Core", type="O"))
        town = await api.get_channel_by_name(team.id, "town-square", False)
        info = await api.upload_file(chunks(), town.id, "q.bin")
        total = 0
        async with api.get_file_stream(info.id) as stream:
            async for chunk in stream:
                total += len(chunk)
        assert total == 3 * MIB
        with pytest.raises(mp.NotFoundError):
            await api.get_file_stream(UNKNOWN_ID).read()


def _status(pid: int | str, field: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        text = status.read()
    match = re.search(rf"{field}:\s+(\d+) kB", text)
    assert match, field
    return int(match.group(1)) * 1024


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux /proc")
def test_200_mib_round_trip_keeps_memory_bounded(go_server: GoServer) -> None:
    """The peak RSS of both processes grows by a few chunks, not by the file."""
    size = 200 * MIB
    with mp.Client(go_server.target, token=go_server.token) as api:
        room = make_room(api)
        cfg = mp.ServerConfig(api.get_config())
        cfg.data["FileSettings"]["MaxFileSize"] = size
        api.save_config(cfg.to_model())
        api.upload_file(b"warm up", room.town.id, "warm.txt")
        server_pid = go_server.process.pid
        before = {pid: _status(pid, "VmRSS") for pid in (server_pid, "self")}
        for pid in (server_pid, "self"):
            with open(f"/proc/{pid}/clear_refs", "w") as refs:
                refs.write("5")  # resets the peak RSS (VmHWM)

        def data() -> Iterator[bytes]:
            chunk = b"\xab" * MIB
            for _ in range(size // len(chunk)):
                yield chunk

        info = api.upload_file(data(), room.town.id, "big.bin")
        received = sum(len(chunk) for chunk in api.get_file_stream(info.id))
        assert info.size == received == size
        bound = 16 * MIB + 32 * MIB  # a small multiple of the 1 MiB chunk, plus a constant
        for pid in (server_pid, "self"):
            growth = _status(pid, "VmHWM") - before[pid]
            print(f"peak RSS growth of {pid}: {growth / MIB:.1f} MiB")
            assert growth < bound, f"{pid}: peak RSS grew by {growth // MIB} MiB for a 200 MiB file"
