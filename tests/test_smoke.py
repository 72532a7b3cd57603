def test_health_and_register(server):
    client = server.client()
    assert client.get("/api/health").json() == {"data": {"status": "ok"}}
    assert client.get("/api/ready").json() == {"data": {"status": "ready"}}
    admin = server.register_admin()
    me = admin.get("/api/auth/me")
    assert me.status_code == 200 and me.json()["data"]["role"] == "admin"
