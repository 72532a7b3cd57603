"""The grids grid_ui_bench measures: built through the API as grid_bench builds them, optionally kept for the next run.

A 100,000-row grid takes minutes to build through the API, so `--data-cache DIR`
keeps each built data directory (stopped server, so the database is whole) with
what the benchmark needs to know about it (meta.json: the bench view, row 1,
the Investor column, the admin's and the peer's tokens). A later run with the
same size, seed and backend copies it instead of building. Tokens are sessions
in that database, so they stay valid for as long as their sessions do.
"""
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import grid_bench as gb  # noqa: E402

PEER_PASSWORD = "peer password 1234"
META = "meta.json"


class UIServer(gb.Server):
    """grid_bench's server, with the front end directory chosen and optionally over an existing data directory."""

    def __init__(self, label: str, backend: Path, frontend: Path, data_dir: Path = None, **env):
        # Appending to the log: a copied data directory already holds the builder's.
        super().__init__(label, backend, data_dir=data_dir, prefix=f"crm-grid-ui-bench-{label}-", log_mode="ab",
                         frontend=frontend, **env)


def add_peer(server: UIServer) -> str:
    """A member through the invite flow; returns their token."""
    doc = server.ok("POST", "/api/admin/users", {"username": "peer", "role": "member", "email": "peer@fund.example"},
                    expect=201)["data"]
    admin_token, server.token = server.token, None
    try:
        peer = server.ok("POST", "/api/auth/accept-invite", {"token": doc["invite"]["token"], "password": PEER_PASSWORD})
    finally:
        server.token = admin_token
    return peer["data"]["token"]


def build(size: int, label: str, backend: Path, frontend: Path, seed: int) -> tuple:
    """A fresh grid of `size` rows x 40 columns in a new data directory (its server stopped): (data_dir, meta)."""
    builder = UIServer(f"{label}-build", backend, frontend)
    try:
        builder.wait_ready()
        builder.register()
        builder.no_auto_backups()
        print(f"building the {size:,}-row grid (40 columns) through the API ...", flush=True)
        built = gb.build_grid(builder, size, 1000, seed)
        print(f"  built in {built['timings']['total_s']:.1f} s", flush=True)
        peer = add_peer(builder)
        # An unfiltered view (the default "All investors" hides the ~5% graveyard rows): every row is loaded.
        view_id = builder.ok("POST", "/api/fundraising/views", {"name": "Every row (bench)", "shared": True,
                                                                "config": {"frozen": 1}}, expect=201)["data"]["id"]
        first = builder.ok("GET", f"/api/fundraising/rows?view_id={view_id}&limit=1")
        if first["total"] != size:
            raise RuntimeError(f"the bench view shows {first['total']} of {size} rows")
        meta = {"size": size, "seed": seed, "view_id": view_id, "first_row": first["data"][0]["id"],
                "version": first["version"], "investor": built["ids"]["Investor"], "ids": built["ids"],
                "peer_token": peer, "token": builder.token, "build_s": built["timings"]["total_s"]}
    except Exception:
        builder.stop()
        print(builder.log_tail(), file=sys.stderr)
        raise
    if builder.stop() not in (0, None):
        print(builder.log_tail(), file=sys.stderr)
    return builder.data_dir, meta


def grid(size: int, label: str, backend: Path, frontend: Path, seed: int, cache: Path = None) -> tuple:
    """(data_dir, meta) of a grid of `size` rows: a copy of the cached one when `cache` holds it, else built (and cached)."""
    if cache is None:
        return build(size, label, backend, frontend, seed)
    kept = Path(cache) / f"grid-{size}-seed{seed}"
    if not (kept / META).exists():
        data_dir, meta = build(size, label, backend, frontend, seed)
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(data_dir, kept)
        (kept / META).write_text(json.dumps(meta, indent=2) + "\n")
        return data_dir, meta
    meta = json.loads((kept / META).read_text())
    data_dir = Path(tempfile.mkdtemp(prefix=f"crm-grid-ui-bench-{label}-"))
    shutil.copytree(kept, data_dir, dirs_exist_ok=True)
    (data_dir / META).unlink()
    print(f"the {size:,}-row grid: a copy of {kept} (built in {meta['build_s']:.0f} s)", flush=True)
    return data_dir, meta


def copy(data_dir: Path, label: str) -> Path:
    """A copy of a (stopped) data directory, for a second front end over the same data."""
    other = Path(tempfile.mkdtemp(prefix=f"crm-grid-ui-bench-{label}-"))
    shutil.copytree(data_dir, other, dirs_exist_ok=True)
    return other


if __name__ == "__main__":
    # Build (or find) a grid into a cache: python bench/grid_ui_data.py SIZE CACHE_DIR [SEED]
    import benchlib
    n, where = int(sys.argv[1]), Path(sys.argv[2])
    d, m = grid(n, f"s{n}", benchlib.BACKEND, benchlib.FRONTEND, int(sys.argv[3]) if len(sys.argv) > 3 else 1, where)
    shutil.rmtree(d, ignore_errors=True)
    print(json.dumps({k: v for k, v in m.items() if k != "ids"}))
