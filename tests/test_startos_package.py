"""The StartOS 0.4 package (start9/0.4): what can be checked without start-cli or Docker.

`npm ci` (skipped while package.json and package-lock.json are unchanged since
the last install), then `npm run check` (tsc), the SDK's lint and
`npm run build` run side by side; the built javascript/index.js is loaded in
Node and its manifest and actions inspected. The package's pure helpers
(startos/env.ts) are bundled alone and called. The admin CLI the actions run
is tested against a real server's database.
"""
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "start9" / "0.4"
ADMIN_CLI = ROOT / "backend" / "crm" / "admin_cli.py"
ACTIONS = {"create-or-reset-admin", "security-status", "configure-digest-smtp", "gmail-service-account", "local-model-server",
           "set-anthropic-api-key"}
NPM_TIMEOUT = 600

needs_npm = pytest.mark.skipif(shutil.which("npm") is None,
                               reason="npm is not installed: the StartOS package's TypeScript checks need Node.js and npm")


def npm(*args, cwd=PACKAGE, timeout=NPM_TIMEOUT) -> subprocess.CompletedProcess:
    return subprocess.run(["npm", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def ensure_node_modules() -> None:
    """npm ci unless package.json and package-lock.json are what node_modules was installed from."""
    stamp = PACKAGE / "node_modules" / ".installed-lock.sha256"
    want = hashlib.sha256((PACKAGE / "package.json").read_bytes() + (PACKAGE / "package-lock.json").read_bytes()).hexdigest()
    if stamp.is_file() and stamp.read_text().strip() == want:
        return
    result = npm("ci", "--no-audit", "--no-fund", "--loglevel=error")
    assert result.returncode == 0, f"npm ci failed:\n{result.stdout}\n{result.stderr}"
    stamp.write_text(want + "\n")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Install, then tsc, lint, the build and env.ts's own bundle side by side: {step: (exit code, output)}."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: the StartOS package's TypeScript checks need Node.js and npm")
    # One run at a time in this worktree: npm ci and the build rewrite shared folders.
    with open(PACKAGE / ".test.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        started = time.monotonic()
        ensure_node_modules()
        install_seconds = time.monotonic() - started
        steps = {
            "check": ["npm", "run", "check"],
            "lint": ["node", "node_modules/@start9labs/start-sdk/lint.mjs"],
            "build": ["npm", "run", "build"],
            # startos/env.ts alone (it has no SDK at run time), for calling its helpers.
            "env": ["npx", "--no-install", "ncc", "build", "startos/env.ts", "-o", str(tmp_path_factory.mktemp("env-bundle"))],
        }
        running = {name: subprocess.Popen(cmd, cwd=PACKAGE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                   for name, cmd in steps.items()}
        results = {}
        for name, proc in running.items():
            out, _ = proc.communicate(timeout=NPM_TIMEOUT)
            results[name] = (proc.returncode, out)
        results["seconds"] = {"install": install_seconds, "checks": time.monotonic() - started - install_seconds}
        results["env_bundle"] = Path(steps["env"][-1]) / "index.js"
        yield results


NODE_PROBE = r"""
const pkg = require(process.argv[1]);
// Enough of StartOS's effects for building the actions' input forms outside StartOS.
const effects = new Proxy({}, { get(_, name) {
  if (name === 'eventId') return 'test';
  if (name === 'child') return () => effects;
  if (name === 'then' || name === 'constRetry') return undefined;
  return async () => null;  // getSystemSmtp: none configured
}});
(async () => {
  const forms = {};
  for (const id of Object.keys(pkg.actions.actions)) {
    const input = await pkg.actions.get(id).getInput({ effects, prefill: null });
    forms[id] = { fields: Object.keys(input.spec), prefill: input.value,
                  masked: Object.fromEntries(Object.entries(input.spec).map(([k, v]) => [k, v.masked ?? null])) };
    if (input.spec.smtp) forms[id].smtp = { type: input.spec.smtp.type, variants: Object.keys(input.spec.smtp.variants),
                                             default: input.spec.smtp.default };
  }
  console.log(JSON.stringify({ exports: Object.keys(pkg).sort(), manifest: pkg.manifest, forms }));
})().catch((e) => { console.error(e); process.exit(1); });
"""


@needs_npm
def test_typescript_check_lint_and_build_pass(built):
    for step in ("check", "lint", "build"):
        code, out = built[step]
        assert code == 0, f"{step} failed:\n{out}"
    assert (PACKAGE / "javascript" / "index.js").is_file()
    # The warm-cache budget: the whole package test stays well under three minutes.
    assert built["seconds"]["checks"] < 150, built["seconds"]


@pytest.fixture(scope="module")
def bundle(built):
    code, out = built["build"]
    assert code == 0, out
    result = subprocess.run(["node", "-e", NODE_PROBE, str(PACKAGE / "javascript" / "index.js")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@needs_npm
def test_the_built_bundle_exports_what_startos_reads(bundle):
    assert bundle["exports"] == ["actions", "createBackup", "init", "main", "manifest", "uninit"]


@needs_npm
def test_the_built_manifest(bundle):
    manifest = bundle["manifest"]
    assert manifest["id"] == "venture-crm"
    assert manifest["title"] == "Venture CRM"
    assert manifest["volumes"] == ["main"]
    assert manifest["sdkVersion"] == "2.0.9"
    assert re.fullmatch(r"\d+\.\d+\.\d+:\d+", manifest["version"])
    assert list(manifest["images"]) == ["main"]
    image = manifest["images"]["main"]
    assert sorted(image["arch"]) == ["aarch64", "x86_64"]
    assert image["emulateMissingAs"] is None  # never emulated: built for both
    assert sorted(manifest["hardwareRequirements"]["arch"]) == ["aarch64", "x86_64"]
    build = image["source"]["dockerBuild"]
    # Paths are relative to the package folder: the context is the repository root.
    assert (PACKAGE / build["workdir"]).resolve() == ROOT
    assert (PACKAGE / build["dockerfile"]).resolve() == PACKAGE / "Dockerfile"
    assert manifest["dependencies"] == {}


@needs_npm
def test_every_action_is_present_with_its_form(bundle):
    forms = bundle["forms"]
    assert set(forms) == ACTIONS
    assert forms["create-or-reset-admin"]["fields"] == ["username", "email", "deliver"]
    assert forms["security-status"]["fields"] == []
    assert forms["configure-digest-smtp"]["fields"] == ["smtp", "digestSender"]
    # The SDK's three-way SMTP choice; "system" is offered only when StartOS has an account.
    assert forms["configure-digest-smtp"]["smtp"] == {"type": "union", "variants": ["disabled", "system", "custom"],
                                                      "default": "disabled"}
    assert forms["gmail-service-account"]["fields"] == ["enabled", "key", "workspaceDomain"]
    assert forms["gmail-service-account"]["prefill"]["key"] is None  # a stored key is never shown back
    assert forms["local-model-server"]["fields"] == ["baseUrl", "chatModel", "embedModel"]
    # The external model's key: masked, never prefilled, clearable.
    assert forms["set-anthropic-api-key"]["fields"] == ["clear", "apiKey", "model"]
    assert forms["set-anthropic-api-key"]["prefill"] == {"clear": False, "apiKey": None, "model": None}
    assert forms["set-anthropic-api-key"]["masked"] == {"clear": None, "apiKey": True, "model": False}


ENV_PROBE = r"""
const env = require(process.argv[1]);
const key = JSON.parse(process.argv[2]);
const out = {};
out.good = env.parseServiceAccountKey(JSON.stringify(key, null, 2));
out.notJson = env.parseServiceAccountKey('{"type": ');
out.oauthClient = env.parseServiceAccountKey(JSON.stringify({ installed: { client_id: 'x' } }));
out.wrongType = env.parseServiceAccountKey(JSON.stringify({ ...key, type: 'authorized_user' }));
out.missing = env.parseServiceAccountKey(JSON.stringify({ ...key, client_id: '', token_uri: undefined }));
out.badPem = env.parseServiceAccountKey(JSON.stringify({ ...key, private_key: 'abc' }));
out.domains = ['fund.example', 'mail.fund.example', 'fund', 'https://fund.example', 'a@fund.example'].map(env.checkWorkspaceDomain);
out.keys = ['sk-ant-api03-' + 'a'.repeat(40), 'sk-proj-abc1234567890123456', 'sk-ant-api03-has space-0123456789',
            'sk-ant-x', 'sk-ant-api03-bad!chars-0123456789'].map(env.checkAnthropicKey);
out.models = ['claude-sonnet-4-5', 'claude-3-5-haiku-20241022', 'Claude Sonnet', ''].map(env.checkModelName);
out.urls = ['http://spark.local:8000/v1', 'https://10.0.0.5/v1', 'ftp://spark', 'spark.local', 'http://u:p@spark/v1'].map(env.checkBaseUrl);
const store = {
  smtp: { selection: 'custom', value: {} }, digestSender: 'partners@fund.example',
  spark: { baseUrl: 'http://spark.local:8000/v1', chatModel: 'chat-m', embedModel: 'embed-m' },
  gmail: { workspaceDomain: 'fund.example', clientEmail: 'x', keyId: 'y' },
  anthropic: { apiKey: 'sk-ant-api03-secret', model: 'claude-x' },
};
const custom = env.customSmtp({ host: 'smtp.fund.example', from: 'Digest <d@fund.example>', username: 'd',
                                password: 'pw', security: { selection: 'tls', value: { port: '465' } } });
out.custom = env.crmEnv(store, custom);
out.disabled = env.crmEnv({ ...store, smtp: { selection: 'disabled', value: {} }, digestSender: '',
                            spark: { baseUrl: '', chatModel: 'ignored', embedModel: '' },
                            gmail: { workspaceDomain: '', clientEmail: '', keyId: '' },
                            anthropic: { apiKey: '', model: 'ignored' } }, null);
out.olderStore = env.crmEnv({ ...store, anthropic: undefined }, null);
out.systemWithoutAccount = env.crmEnv({ ...store, smtp: { selection: 'system', value: {} } }, null);
console.log(JSON.stringify(out));
"""

SERVICE_ACCOUNT = {
    "type": "service_account", "project_id": "fund-crm", "private_key_id": "abc123",
    "private_key": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
    "client_email": "capture@fund-crm.iam.gserviceaccount.com", "client_id": "1122334455",
    "token_uri": "https://oauth2.googleapis.com/token",
}


@pytest.fixture(scope="module")
def env_helpers(built):
    """startos/env.ts's helpers, run on test inputs."""
    code, out = built["env"]
    assert code == 0, out
    size = built["env_bundle"].stat().st_size
    assert size < 50_000, f"env.ts pulled the SDK into its bundle ({size} bytes)"
    probe = subprocess.run(["node", "-e", ENV_PROBE, str(built["env_bundle"]), json.dumps(SERVICE_ACCOUNT)],
                           capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0, probe.stderr
    return json.loads(probe.stdout)


@needs_npm
def test_a_pasted_service_account_key_is_validated(env_helpers):
    good = env_helpers["good"]
    assert good["ok"] is True
    assert good["key"]["clientEmail"] == SERVICE_ACCOUNT["client_email"]
    assert good["key"]["clientId"] == "1122334455" and good["key"]["keyId"] == "abc123"
    assert json.loads(good["key"]["text"]) == SERVICE_ACCOUNT  # what is written is the key itself
    for case, fragment in [("notJson", "not valid JSON"), ("oauthClient", "not a service-account key"),
                           ("wrongType", "not a service-account key"), ("missing", "lacks client_id, token_uri"),
                           ("badPem", "not a PEM private key")]:
        assert env_helpers[case]["ok"] is False, case
        assert fragment in env_helpers[case]["error"], (case, env_helpers[case]["error"])


@needs_npm
def test_domain_and_model_server_checks(env_helpers):
    ok_domain, ok_sub, bare, url, address = env_helpers["domains"]
    assert ok_domain is None and ok_sub is None
    assert all(problem and "not a domain name" in problem for problem in (bare, url, address))
    ok_url, ok_ip, ftp, bare_host, userinfo = env_helpers["urls"]
    assert ok_url is None and ok_ip is None
    assert "must start with http" in ftp
    assert "is not a URL" in bare_host or "must start with http" in bare_host
    assert "no user name or password" in userinfo


# The OS proxy replaces X-Forwarded-For and connects from the bridge's host address
# (StartOS 0.4: `protocol: 'http'` bindings add the header; lxcbr0's host is 10.0.3.1).
BEHIND_THE_PROXY = {"CRM_TRUST_PROXY": "1", "CRM_PROXY_ADDRESSES": "10.0.3.1"}


@needs_npm
def test_the_daemon_environment_built_from_the_store(env_helpers):
    custom = env_helpers["custom"]
    assert custom == {
        "CRM_DATA_DIR": "/data", "CRM_APP_DIR": "/app", "CRM_HOST": "0.0.0.0", "CRM_PORT": "8080",
        **BEHIND_THE_PROXY, "SMTP_SELECTION": "custom", "SMTP_HOST": "smtp.fund.example", "SMTP_PORT": "465", "SMTP_SECURITY": "tls",
        "SMTP_FROM": "Digest <d@fund.example>", "SMTP_USER": "d", "SMTP_PASS": "pw",
        "CRM_DIGEST_SENDER": "partners@fund.example",
        "CRM_SPARK_BASE_URL": "http://spark.local:8000/v1", "CRM_SPARK_CHAT_MODEL": "chat-m",
        "CRM_EMBED_MODEL": "embed-m",
        "CRM_GMAIL_WORKSPACE_DOMAIN": "fund.example",
        "CRM_ANTHROPIC_API_KEY": "sk-ant-api03-secret", "CRM_ANTHROPIC_MODEL": "claude-x",
    }
    assert env_helpers["disabled"] == {"CRM_DATA_DIR": "/data", "CRM_APP_DIR": "/app", "CRM_HOST": "0.0.0.0",
                                       "CRM_PORT": "8080", **BEHIND_THE_PROXY, "SMTP_SELECTION": "disabled"}
    # "System" on a server without a system SMTP account: the entrypoint is told it is off.
    assert env_helpers["systemWithoutAccount"]["SMTP_SELECTION"] == "disabled"
    assert "SMTP_HOST" not in env_helpers["systemWithoutAccount"]
    # A store from before the Anthropic action: no key, no external model.
    assert not [name for name in env_helpers["olderStore"] if name.startswith("CRM_ANTHROPIC")]


@needs_npm
def test_a_pasted_anthropic_key_and_model_are_checked_without_repeating_the_key(env_helpers):
    good, other_vendor, spaced, short, bad_chars = env_helpers["keys"]
    assert good is None
    assert "start with sk-ant-" in other_vendor and "spaces" in spaced
    assert "copy the whole key" in short and "copy the whole key" in bad_chars
    assert all("sk-ant-api03" not in problem for problem in (spaced, short, bad_chars))
    ok_model, dated, spaced_model, empty = env_helpers["models"]
    assert ok_model is None and dated is None and "not a model id" in spaced_model and "not a model id" in empty


def test_the_anthropic_action_never_shows_the_key_back():
    """Read as text: the form's prefill leaves the key out, the results say set or removed, and the
    store is the only place the key is written."""
    source = (PACKAGE / "startos/actions/setAnthropicApiKey.ts").read_text()
    assert "apiKey: null," in source and "masked: true" in source
    assert source.count("result: null") == 2  # neither result carries a value, least of all the key
    assert "CRM_ANTHROPIC_API_KEY = store.anthropic.apiKey" in (PACKAGE / "startos/env.ts").read_text()


# --- the package's files, checked as text -------------------------------------

def test_package_layout_follows_the_sdk_template():
    for name in ("package.json", "package-lock.json", "tsconfig.json", "Makefile", "icon.svg", "LICENSE",
                 "instructions.md", "Dockerfile", ".npmrc",
                 "startos/manifest/index.ts", "startos/sdk.ts", "startos/index.ts", "startos/main.ts",
                 "startos/interfaces.ts", "startos/backups.ts", "startos/dependencies.ts", "startos/actions/index.ts",
                 "startos/fileModels/store.json.ts", "startos/init/index.ts", "startos/versions/index.ts",
                 "startos/i18n/index.ts"):
        assert (PACKAGE / name).is_file(), name
    assert any((PACKAGE / "assets").iterdir())  # start-cli packs the folder; it must not be empty
    package = json.loads((PACKAGE / "package.json").read_text())
    assert package["dependencies"]["@start9labs/start-sdk"] == "2.0.9"  # pinned exactly
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) for v in {**package["dependencies"], **package["devDependencies"]}.values())
    assert json.loads((PACKAGE / "tsconfig.json").read_text())["extends"] == "@start9labs/start-sdk/tsconfig.base.json"
    makefile = (PACKAGE / "Makefile").read_text()
    assert "include node_modules/@start9labs/start-sdk/s9pk.mk" in makefile
    assert re.search(r"^ARCHES := x86 arm$", makefile, re.M)
    assert "<svg" in (PACKAGE / "icon.svg").read_text() and (PACKAGE / "icon.svg").stat().st_size < 40_000


def test_the_lock_file_names_no_registry_host():
    lock = json.loads((PACKAGE / "package-lock.json").read_text())
    assert not [name for name, entry in lock["packages"].items() if "resolved" in entry]
    assert lock["packages"]["node_modules/@start9labs/start-sdk"]["version"] == "2.0.9"
    assert "omit-lockfile-registry-resolved=true" in (PACKAGE / ".npmrc").read_text()


def test_s9pk_mk_finds_the_package_id():
    # s9pk.mk: PACKAGE_ID := $(shell awk -F"'" '/id:/ {print $$2}' startos/manifest/index.ts)
    lines = [line for line in (PACKAGE / "startos/manifest/index.ts").read_text().splitlines() if "id:" in line]
    assert [line.split("'")[1] for line in lines] == ["venture-crm"]


@needs_npm
def test_make_reads_the_sdk_makefile(built):
    def make_print(name):
        result = subprocess.run(["make", "-s", f"print-{name}"], cwd=PACKAGE, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()
    assert make_print("PACKAGE_ID") == "venture-crm"
    assert make_print("TARGETS") == "x86 arm"  # make builds x86_64 and aarch64


def test_the_dockerfile():
    text = (PACKAGE / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", text, re.M)
    assert stages[-1] == "python:3.11-slim"
    assert re.search(r"^USER (?!root)\w+", text, re.M)
    assert "pip install --no-cache-dir -r requirements.txt" in text
    assert re.search(r"COPY --from=frontend \S*node_modules \./frontend/node_modules", text)
    assert re.search(r"^EXPOSE 8080$", text, re.M)
    assert re.search(r"^HEALTHCHECK .*\n?.*?/api/ready", text, re.M)
    assert 'ENTRYPOINT ["/app/docker_entrypoint.sh"]' in text
    # Every COPY source exists in the context (the repository root) and is let through the ignore file.
    ignore = (PACKAGE / "Dockerfile.dockerignore").read_text().splitlines()
    allowed = [rule[1:].rstrip("/") for rule in ignore if rule.startswith("!")]
    for source in re.findall(r"^COPY (?!--from)(\S+)", text, re.M):
        assert (ROOT / source).exists(), source
        assert any(source.rstrip("/") == rule or source.startswith(rule + "/") for rule in allowed), source


# --- the admin CLI that the actions run -------------------------------------------

def admin_cli(data_dir, *args, module=False, **env) -> tuple:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CRM_")}
    environ.update(CRM_DATA_DIR=str(data_dir), **env)
    if module:
        environ["PYTHONPATH"] = str(ROOT / "backend")
        cmd = [sys.executable, "-m", "crm.admin_cli", *args]
    else:
        cmd = [sys.executable, str(ADMIN_CLI), *args]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=environ, cwd="/")
    assert result.stdout.strip(), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_admin_cli_creates_the_first_admin_with_a_one_time_password(make_server):
    server = make_server()
    data = server.config.data_dir
    code, status = admin_cli(data, "status")
    assert code == 0 and status == {"ok": True, "users": 0, "active_admins": 0, "setup_required": True}
    code, out = admin_cli(data, "reset-admin", "--username", "ada", "--email", "ada@fund.example")
    assert code == 0 and out["created"] is True
    assert out["user"]["role"] == "admin" and out["user"]["is_active"] is True
    assert "password_hash" not in out["user"]
    password = out["password"]
    assert len(password) >= 20
    client = server.client()
    r = client.post("/api/auth/login", {"username": "ada", "password": password})
    assert r.status_code == 200, r.text
    client.token = r.json()["data"]["token"]
    entries = client.get("/api/audit-log", params={"action": "cli_create_admin"}).json()["data"]
    assert len(entries) == 1 and entries[0]["actor_kind"] == "system" and entries[0]["entity_id"] == out["user"]["id"]
    assert password not in json.dumps(entries)
    code, status = admin_cli(data, "status", module=True)  # python3 -m crm.admin_cli works too
    assert code == 0 and status["setup_required"] is False and status["active_admins"] == 1


def test_admin_cli_resets_an_existing_user_with_an_invite_link(make_server):
    server = make_server()
    admin = server.register_admin("ada", "the old passphrase")
    member = server.add_user(admin, "grace", role="member")
    # Grace is deactivated and a member; the reset makes her an active admin again.
    r = admin.patch(f"/api/admin/users/{member.user['id']}", {"is_active": False})
    assert r.status_code == 200, r.text
    data = server.config.data_dir
    code, out = admin_cli(data, "reset-admin", "--username", "GRACE", "--deliver", "link", "--base-url", "https://crm.local/")
    assert code == 0 and out["created"] is False
    assert out["user"]["username"] == "grace" and out["user"]["role"] == "admin" and out["user"]["is_active"] is True
    assert "password" not in out
    invite = out["invite"]
    assert invite["url"] == f"https://crm.local/accept-invite#token={invite['token']}"
    assert invite["purpose"] == "reset"
    client = server.client()
    r = client.post("/api/auth/accept-invite", {"token": invite["token"], "password": "grace's new passphrase"})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["user"]["role"] == "admin"
    # The link works once.
    r = client.post("/api/auth/accept-invite", {"token": invite["token"], "password": "another passphrase"})
    assert r.status_code == 404

    # Resetting ada ends her sessions, and the new password replaces the old one.
    code, out = admin_cli(data, "reset-admin", "--username", "ada")
    assert code == 0 and out["created"] is False
    assert admin.get("/api/auth/me").status_code == 401
    assert server.client().post("/api/auth/login", {"username": "ada", "password": "the old passphrase"}).status_code == 401
    assert server.client().post("/api/auth/login", {"username": "ada", "password": out["password"]}).status_code == 200


REFUSALS = [
    # (case, args, exit code, message)
    ("bad username", ["reset-admin", "--username", "no spaces"], 2, "username may contain only"),
    ("bad email", ["reset-admin", "--username", "ada", "--email", "not-an-address"], 2, "is not an email address"),
    ("email of another user", ["reset-admin", "--username", "bob", "--email", "ada@fund.example"], 4, "belongs to another user"),
]


@pytest.mark.parametrize("case, args, code, message", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_admin_cli_refusals_change_nothing(make_server, case, args, code, message):
    server = make_server()
    admin = server.register_admin("ada")
    assert admin.user["email"] == "ada@fund.example"
    before = [(u["username"], u["role"], u["is_active"]) for u in admin.get("/api/users").json()["data"]]
    returned, out = admin_cli(server.config.data_dir, *args)
    assert returned == code and out["ok"] is False and message in out["error"]
    after = [(u["username"], u["role"], u["is_active"]) for u in admin.get("/api/users").json()["data"]]
    assert after == before
    assert admin.get("/api/auth/me").status_code == 200  # nobody was signed out


def test_admin_cli_refuses_a_missing_database(tmp_path):
    code, out = admin_cli(tmp_path / "empty", "status")
    assert code == 3 and out["ok"] is False and "start the service once" in out["error"]


def test_admin_cli_security_status_reads_what_the_container_keeps(make_server):
    server = make_server()
    server.register_admin("ada")
    data = Path(server.config.data_dir)
    (data / ".crm-secret").write_text("s" * 48 + "\n")
    (data / ".crm-secret").chmod(0o600)
    (data / "secrets").mkdir(mode=0o700, exist_ok=True)
    key = data / "secrets" / "gmail-service-account.json"
    key.write_text("{}")
    key.chmod(0o644)  # too open: flagged
    code, report = admin_cli(data, "security-status", CRM_ENV="production")
    assert code == 0 and report["ok"] is False
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["secret_key"]["ok"] and checks["production_mode"]["ok"]
    assert checks["admin_count"]["ok"] and checks["bootstrap_closed"]["ok"]
    assert checks["secret_file"]["ok"] and checks["secrets_dir"]["ok"]
    assert checks["gmail_key"]["ok"] is False and "644" in checks["gmail_key"]["detail"]
    assert report["gmail_key_present"] is True
    assert "banned_addresses" not in report and "banned_users" not in report
    key.chmod(0o600)
    code, report = admin_cli(data, "security-status", CRM_ENV="production")
    assert {c["name"]: c["ok"] for c in report["checks"]}["gmail_key"] is True
