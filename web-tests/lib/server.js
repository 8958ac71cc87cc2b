// Starts a real confab server for a test: a free port on 127.0.0.1, a
// fresh SQLite database in a temporary folder, and the binary named by
// CONFAB_BIN (default: debug/confab in CARGO_TARGET_DIR, or in this
// repository's target/ when that is unset; scripts/test sets CONFAB_BIN from
// cargo metadata, which also knows a target-dir from cargo config). Its public
// domain is 127.0.0.1:<port>, or <host>:<port> for servers that federate
// (federation tells servers apart by host name, not by port).

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(repo, process.env.CARGO_TARGET_DIR) : join(repo, "target");
const binary = process.env.CONFAB_BIN ? resolve(process.env.CONFAB_BIN) : join(targetDir, "debug", "confab");

/** @returns {Promise<number>} a port nothing listens on right now */
export function freePort() {
  return new Promise((ok, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => ok(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export class ConfabServer {
  /**
   * @param {Record<string, string>} [env] further CONFAB_* settings
   * @param {{host?: string}} [options] host: the public host name (the server still listens on 127.0.0.1)
   */
  constructor(env = {}, options = {}) {
    this.env = env;
    this.host = options.host || "127.0.0.1";
    this.dir = mkdtempSync(join(tmpdir(), "confab-web-"));
    this.port = 0;
    this.domain = "";
    /** @type {import("node:child_process").ChildProcess | null} */
    this.child = null;
    this.log = "";
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again, on the same port and database after stop()). */
  async start(port = this.port) {
    this.port = port || (await freePort());
    // Tokens name the domain, so it stays that of the first start.
    this.domain ||= `${this.host}:${this.port}`;
    const child = spawn(binary, ["serve"], {
      env: {
        ...process.env,
        CONFAB_BIND: `127.0.0.1:${this.port}`,
        CONFAB_DOMAIN: this.domain,
        CONFAB_PUBLIC_SCHEME: "http",
        CONFAB_DATABASE_URL: `sqlite://${join(this.dir, "confab.db")}`,
        CONFAB_LOG: "warn",
        CONFAB_SHUTDOWN_TIMEOUT_S: "1",
        // Every test user signs up from 127.0.0.1.
        CONFAB_SIGNUPS_PER_IP: "0",
        ...this.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    const keep = (/** @type {Buffer} */ chunk) => {
      this.log = (this.log + chunk.toString()).slice(-20000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const exited = new Promise((_, fail) =>
      child.once("exit", (code) => fail(new Error(`confab exited with ${code} at start:\n${this.log}`))),
    );
    await Promise.race([this.healthy(), exited]);
    return this;
  }

  async healthy() {
    for (;;) {
      try {
        const response = await fetch(`${this.url}/healthz`);
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops the process (SIGTERM) and waits for it to exit. */
  async stop() {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await gone;
  }

  async dispose() {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
