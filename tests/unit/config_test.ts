/** Config: defaults, flags over environment, and a ConfigError naming the option for each mistake. */
import assert from "node:assert/strict";
import { type Config, ConfigError, DEFAULTS, resolveConfig, USAGE } from "../../lib/config.ts";

function config(args: string[], env: Record<string, string | undefined> = {}): Config {
  const r = resolveConfig(args, env);
  assert.equal(r.help, false);
  return (r as { help: false; config: Config }).config;
}

function fails(args: string[], option: string | RegExp, env: Record<string, string> = {}) {
  assert.throws(
    () => resolveConfig(args, env),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError, `not a ConfigError: ${e}`);
      if (typeof option === "string") assert.ok(e.message.includes(option), e.message);
      else assert.match(e.message, option);
      return true;
    },
    `${args.join(" ")} should fail`,
  );
}

Deno.test("config defaults listen on loopback with the seed's ports", () => {
  assert.deepEqual(config([]), {
    httpHost: "127.0.0.1",
    httpPort: 8000,
    zmq: "tcp://127.0.0.1:5555",
    sub: null,
    subBind: null,
    windowMs: 15 * 60_000,
    dataDir: "./.zeroapm",
    retention: { rawMs: 3 * 86_400_000, minuteMs: 90 * 86_400_000, hourMs: 730 * 86_400_000 },
    maxDiskBytes: null,
    token: null,
    tokenGenerated: false,
    curveKey: null,
    curveAllow: null,
    secureCookie: false,
    allowedHosts: [],
    rules: null,
    otlp: "127.0.0.1:4318",
    remoteWrite: [],
    remoteWriteHeaders: {},
    remoteRead: null,
    remoteReadHeaders: {},
  });
  assert.deepEqual(config([]), DEFAULTS);
});

Deno.test("config reads --allowed-host (repeated or comma-separated) and ZEROAPM_ALLOWED_HOST", () => {
  assert.deepEqual(
    config(["--allowed-host", "APM.example.com", "--allowed-host", "a.lan:8000,b.lan"])
      .allowedHosts,
    ["apm.example.com", "a.lan:8000", "b.lan"],
  );
  assert.deepEqual(config([], { ZEROAPM_ALLOWED_HOST: "x.lan, y.lan" }).allowedHosts, [
    "x.lan",
    "y.lan",
  ]);
  assert.deepEqual(config(["--allowed-host", "*"]).allowedHosts, ["*"]);
  fails(["--allowed-host", "evil.example/path"], "--allowed-host");
  fails(["--allowed-host", "a b"], "--allowed-host");
});

Deno.test("config reads history options: --data, ZEROAPM_DATA, none, --retention, --max-disk", () => {
  assert.equal(config(["--data", "/var/lib/zeroapm"]).dataDir, "/var/lib/zeroapm");
  assert.equal(config([], { ZEROAPM_DATA: "/srv/z" }).dataDir, "/srv/z");
  assert.equal(config(["--data", "none"]).dataDir, null);
  assert.deepEqual(config(["--retention", "raw=7d,1h=5y"]).retention, {
    rawMs: 7 * 86_400_000,
    minuteMs: 90 * 86_400_000,
    hourMs: 5 * 365 * 86_400_000,
  });
  assert.equal(config(["--max-disk", "500MB"]).maxDiskBytes, 500e6);
  assert.equal(config(["--max-disk", "2GiB"]).maxDiskBytes, 2 * 1024 ** 3);
});

Deno.test("config refuses bad history options, naming the option", () => {
  const bad: Array<[string[], RegExp]> = [
    [["--retention", "raw=3x"], /--retention raw: "3x" is not a duration/],
    [["--retention", "5m=1d"], /--retention: "5m=1d" must be TIER=DURATION/],
    [["--retention", "raw=100d"], /coarser tier must be kept at least as long/],
    [["--max-disk", "lots"], /--max-disk: "lots" is not a size/],
    [["--max-disk", "10KB"], /--max-disk: at least 1MB/],
    [["--data", " "], /--data must be a directory/],
  ];
  for (const [args, re] of bad) {
    assert.throws(() => config(args), (e: Error) => re.test(e.message), args.join(" "));
  }
});

Deno.test("config reads the environment", () => {
  const c = config([], {
    ZEROAPM_HTTP: "0.0.0.0:9000",
    ZEROAPM_ZMQ: "tcp://0.0.0.0:6000",
    ZEROAPM_SUB: "tcp://127.0.0.1:5556",
  });
  assert.equal(c.httpHost, "0.0.0.0");
  assert.equal(c.httpPort, 9000);
  assert.equal(c.zmq, "tcp://0.0.0.0:6000");
  assert.equal(c.sub, "tcp://127.0.0.1:5556");
});

Deno.test("config flags win over the environment", () => {
  const env = {
    ZEROAPM_HTTP: "0.0.0.0:9000",
    ZEROAPM_ZMQ: "tcp://0.0.0.0:6000",
    ZEROAPM_SUB: "ipc:///tmp/x",
  };
  const c = config(
    ["--http", "127.0.0.1:8080", "--zmq", "tcp://127.0.0.1:7000", "--sub", "tcp://127.0.0.1:7001"],
    env,
  );
  assert.equal(c.httpHost, "127.0.0.1");
  assert.equal(c.httpPort, 8080);
  assert.equal(c.zmq, "tcp://127.0.0.1:7000");
  assert.equal(c.sub, "tcp://127.0.0.1:7001");
  assert.equal(config(["--http=localhost:1"], env).httpHost, "localhost");
});

Deno.test("config --sub-bind (or ZEROAPM_SUB_BIND) binds a SUB for PUB apps that connect", () => {
  const c = config(["--zmq", "tcp://127.0.0.1:5556", "--sub-bind", "tcp://127.0.0.1:5555"]);
  assert.equal(c.subBind, "tcp://127.0.0.1:5555");
  assert.equal(c.zmq, "tcp://127.0.0.1:5556");
  assert.equal(config([], { ZEROAPM_SUB_BIND: "ipc:///tmp/pub" }).subBind, "ipc:///tmp/pub");
  assert.equal(
    config(["--sub-bind", "tcp://127.0.0.1:7"], { ZEROAPM_SUB_BIND: "ipc:///tmp/pub" }).subBind,
    "tcp://127.0.0.1:7",
  );
  fails(["--sub-bind", "localhost:5555"], "--sub-bind");
  // The default PULL endpoint is the seed's port too: binding both there cannot work.
  fails(["--sub-bind", "tcp://127.0.0.1:5555"], /--sub-bind and --zmq both bind/);
});

Deno.test("config accepts a bracketed IPv6 host", () => {
  const c = config(["--http", "[::1]:8000"]);
  assert.equal(c.httpHost, "::1");
  assert.equal(c.httpPort, 8000);
});

Deno.test("config accepts ipc, inproc and wildcard-port zmq endpoints", () => {
  assert.equal(config(["--zmq", "ipc:///tmp/zeroapm.sock"]).zmq, "ipc:///tmp/zeroapm.sock");
  assert.equal(config(["--zmq", "inproc://x"]).zmq, "inproc://x");
  assert.equal(config(["--zmq", "tcp://127.0.0.1:*"]).zmq, "tcp://127.0.0.1:*");
});

Deno.test("config --window sets minutes of history", () => {
  assert.equal(config(["--window", "5"]).windowMs, 5 * 60_000);
  assert.equal(config(["--window", "1440"]).windowMs, 1440 * 60_000);
});

Deno.test("a bad HOST:PORT is a ConfigError naming --http", () => {
  for (const v of ["8000", "localhost", "localhost:", ":8000", "::1:8000", "a b:1", "host:port"]) {
    fails(["--http", v], "--http");
  }
  fails([], "--http", { ZEROAPM_HTTP: "nonsense" });
});

Deno.test("port 70000 is a ConfigError naming --http", () => {
  fails(["--http", "127.0.0.1:70000"], "--http");
  fails(["--http", "127.0.0.1:65536"], "--http");
  assert.equal(config(["--http", "127.0.0.1:65535"]).httpPort, 65535);
});

Deno.test("a bad zmq endpoint is a ConfigError naming --zmq", () => {
  for (
    const v of [
      "127.0.0.1:5555",
      "tcp://127.0.0.1",
      "udp://127.0.0.1:5555",
      "tcp://h:abc",
      "tcp://127.0.0.1:70000",
    ]
  ) {
    fails(["--zmq", v], "--zmq");
  }
  fails([], "--zmq", { ZEROAPM_ZMQ: "nope" });
  fails(["--sub", "nope"], "--sub");
});

Deno.test("an unknown flag is a ConfigError naming it", () => {
  fails(["--colour", "red"], "--colour");
  fails(["--nope"], "--nope");
});

Deno.test("a positional argument is a ConfigError", () => {
  fails(["extra"], /extra/);
});

Deno.test("--window 0 and other out-of-range windows are a ConfigError naming --window", () => {
  for (const v of ["0", "-1", "abc", "1441", "Infinity", ""]) fails(["--window", v], "--window");
});

Deno.test("--help and -h ask for help, and the usage names every option", () => {
  assert.deepEqual(resolveConfig(["--help"], {}), { help: true });
  assert.deepEqual(resolveConfig(["-h"], {}), { help: true });
  for (
    const o of [
      "--http",
      "--zmq",
      "--sub",
      "--sub-bind",
      "ZEROAPM_SUB_BIND",
      "--window",
      "--help",
      "ZEROAPM_HTTP",
      "ZEROAPM_ZMQ",
    ]
  ) {
    assert.ok(USAGE.includes(o), o);
  }
});

Deno.test("config: beyond loopback a token is required, and generated when not given", () => {
  const open = config(["--http", "0.0.0.0:8000"]);
  assert.equal(open.tokenGenerated, true);
  assert.ok(open.token !== null && open.token.length >= 40);
  const given = config(["--http", "0.0.0.0:8000"], { ZEROAPM_TOKEN: "a-long-enough-token-1234" });
  assert.deepEqual([given.token, given.tokenGenerated], ["a-long-enough-token-1234", false]);
  assert.equal(config([]).token, null, "loopback needs none");
  assert.throws(() => config(["--token", "short"]), (e: Error) => /--token/.test(e.message));
});

Deno.test("config: --curve-key and --curve-allow come together", () => {
  const c = config(["--curve-key", "/k/collector.key", "--curve-allow", "any"]);
  assert.deepEqual([c.curveKey, c.curveAllow], ["/k/collector.key", "any"]);
  assert.throws(
    () => config(["--curve-key", "/k/collector.key"]),
    (e: Error) => /go together/.test(e.message),
  );
  assert.throws(
    () => config(["--curve-allow", "any"]),
    (e: Error) => /go together/.test(e.message),
  );
});

Deno.test("config takes remote write URLs from repeated flags or a comma-separated env var", () => {
  const a = "http://127.0.0.1:8428/api/v1/write";
  const b = "https://mimir.example/api/v1/push";
  assert.deepEqual(config(["--remote-write", a, "--remote-write", b]).remoteWrite, [a, b]);
  assert.deepEqual(config([], { ZEROAPM_REMOTE_WRITE: `${a}, ${b}` }).remoteWrite, [a, b]);
  assert.deepEqual(config(["--remote-write", a], { ZEROAPM_REMOTE_WRITE: b }).remoteWrite, [a]);
  fails(["--remote-write", "vm:8428"], "--remote-write");
  fails(["--remote-write", "ftp://vm/x"], "--remote-write");
});

Deno.test("config parses remote headers and never repeats a header value in an error", () => {
  const c = config([
    "--remote-write",
    "http://vm:8428/api/v1/write",
    "--remote-write-header",
    "Authorization: Bearer s3cret",
    "--remote-write-header",
    "X-Scope-OrgID:team-a",
  ]);
  assert.deepEqual(c.remoteWriteHeaders, {
    authorization: "Bearer s3cret",
    "x-scope-orgid": "team-a",
  });
  assert.throws(
    () =>
      resolveConfig(["--remote-write-header", "Authorization Bearer s3cret"], {
        ZEROAPM_REMOTE_WRITE: "http://vm:8428/api/v1/write",
      }),
    (e: unknown) =>
      e instanceof ConfigError && /must be "Name: value"/.test(e.message) &&
      !e.message.includes("s3cret"),
  );
  fails(["--remote-read", "http://vm:8428", "--remote-read-header", "X-Empty:"], /"Name: value"/);
});

Deno.test("config refuses a remote header without its remote, which would start and send nothing", () => {
  fails(
    ["--remote-write-header", "Authorization: Bearer t"],
    /^--remote-write-header without a remote: give --remote-write URL \(or ZEROAPM_REMOTE_WRITE\)$/,
  );
  fails(["--remote-read-header", "Authorization: Bearer t"], /--remote-read-header without/);
  // A write remote does not make a read header useful, nor the other way round.
  fails(["--remote-read", "http://vm:8428", "--remote-write-header", "A: b"], /--remote-write-h/);
});

Deno.test("config takes a remote read base URL from the flag or env", () => {
  assert.equal(config(["--remote-read", "http://vm:8428"]).remoteRead, "http://vm:8428");
  assert.equal(
    config([], { ZEROAPM_REMOTE_READ: "http://vmselect:8481/select/0/prometheus" }).remoteRead,
    "http://vmselect:8481/select/0/prometheus",
  );
  fails(["--remote-read", "not a url"], "--remote-read");
  assert.ok(USAGE.includes("--remote-write URL") && USAGE.includes("--remote-read URL"));
});

Deno.test("config --otlp: HOST:PORT, ZEROAPM_OTLP, none, and a ConfigError naming --otlp", () => {
  assert.equal(config(["--otlp", "127.0.0.1:4319"]).otlp, "127.0.0.1:4319");
  assert.equal(config([], { ZEROAPM_OTLP: "[::1]:4318" }).otlp, "[::1]:4318");
  assert.equal(config(["--otlp", "none"]).otlp, null);
  assert.equal(config(["--otlp", "127.0.0.1:9"], { ZEROAPM_OTLP: "none" }).otlp, "127.0.0.1:9");
  for (const v of ["4318", "host", "127.0.0.1:70000", ""]) fails(["--otlp", v], "--otlp");
  // The message names the OTLP port and the way to turn it off, not the dashboard's example.
  assert.throws(
    () => config(["--otlp", "off"]),
    new ConfigError('--otlp must be HOST:PORT (e.g. 127.0.0.1:4318) or "none", got off'),
  );
  assert.ok(USAGE.includes("--otlp") && USAGE.includes("ZEROAPM_OTLP"));
});

Deno.test("config: OTLP beyond loopback needs a token too, even with the dashboard on loopback", () => {
  const c = config(["--otlp", "0.0.0.0:4318"]);
  assert.equal(c.tokenGenerated, true);
  assert.ok(c.token !== null && c.token.length >= 40);
  assert.equal(config(["--otlp", "127.0.0.1:4318"]).token, null);
  assert.equal(config(["--otlp", "none"]).token, null);
});
