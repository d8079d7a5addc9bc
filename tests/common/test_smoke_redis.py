def test_redis_fixture_is_a_real_server(redis_server, redis_url):
    client = redis_server.client()
    assert client.info("server")["redis_version"]
    assert redis_url.endswith(f":{redis_server.port}/0")
