"""The connections pinned downloads run on (``loop_network``): to the address given and nowhere
else, a hang-up noticed before a pooled connection is reused, and flow control both ways."""

from __future__ import annotations

import asyncio
import os

import httpcore
import httpx
import pytest

from brand_pipeline.sources.loop_network import connect_to_address
from brand_pipeline.sources.pinned_http import Pin, pinned, pinned_client
from brand_pipeline_tests.fakes.cdn import FakeCDN


def _local(cdn: FakeCDN) -> Pin:
    return Pin(host="127.0.0.1", port=cdn.port, addresses=("127.0.0.1",))


def test_a_connection_goes_to_the_address_given_and_never_looks_a_name_up() -> None:
    with FakeCDN() as cdn:
        with pytest.raises(httpcore.ConnectError, match="'localhost' is not an IP address"):
            asyncio.run(connect_to_address("localhost", cdn.port))
    assert cdn.connections == []


def test_a_pooled_connection_the_server_hung_up_is_replaced_not_reused() -> None:
    async def one_after_the_other(first: str, second: str) -> list[httpx.Response]:
        async with pinned_client(timeout=httpx.Timeout(5.0)) as http:
            with pinned(_local(cdn)):
                hung_up = await http.get(first)
                await asyncio.sleep(0.2)  # the hang-up reaches the client while the connection is idle
                return [hung_up, await http.get(second)]

    with FakeCDN() as cdn:
        image = cdn.serve("/i.jpg", b"\xff\xd8image", "image/jpeg")
        replies = asyncio.run(one_after_the_other(cdn.base_url + "/hang-up", image))
    assert [reply.status_code for reply in replies] == [200, 200]
    assert replies[1].content == b"\xff\xd8image"
    assert len(cdn.connections) == 2, "the second request went on a new connection"


def test_a_body_larger_than_the_receive_buffer_arrives_whole_to_a_slow_reader() -> None:
    body = os.urandom(3 * 1024 * 1024)  # over the 1 MiB held before the connection stops reading

    async def read_slowly(url: str) -> bytes:
        received = bytearray()
        async with pinned_client(timeout=httpx.Timeout(5.0)) as http:
            with pinned(_local(cdn)):
                async with http.stream("GET", url) as response:
                    async for chunk in response.aiter_raw():
                        received += chunk
                        await asyncio.sleep(0.001)  # the server sends faster than this reader takes
        return bytes(received)

    with FakeCDN() as cdn:
        assert asyncio.run(read_slowly(cdn.serve("/v.mp4", body, "video/mp4"))) == body


def test_a_server_that_goes_quiet_mid_body_is_a_read_timeout() -> None:
    async def read_all(url: str) -> None:
        async with pinned_client(timeout=httpx.Timeout(5.0, read=0.05)) as http:
            with pinned(_local(cdn)):
                async with http.stream("GET", url) as response:
                    async for _ in response.aiter_raw():
                        pass

    with FakeCDN() as cdn, pytest.raises(httpx.ReadTimeout):
        asyncio.run(read_all(cdn.base_url + "/drip"))  # a byte every 0.2 s


def test_a_peer_that_stops_reading_holds_up_the_writer_until_its_timeout() -> None:
    async def send_more_than_it_reads() -> None:
        stream = await connect_to_address("127.0.0.1", cdn.port)
        try:
            # The fake answers /drip without reading the announced body.
            await stream.write(b"GET /drip HTTP/1.1\r\nHost: cdn\r\nContent-Length: 999999999\r\n\r\n")
            with pytest.raises(httpcore.WriteTimeout):
                await stream.write(b"\0" * (64 * 1024 * 1024), timeout=0.5)
        finally:
            await stream.aclose()

    with FakeCDN() as cdn:
        asyncio.run(send_more_than_it_reads())
