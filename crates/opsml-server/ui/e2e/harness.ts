// What the end-to-end tests run on: Python from the project's virtual environment (logging
// runs with the real API), the `opsml` command it installs, and Chromium.

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { chromium, type Browser, type Page } from "playwright-core";

export const ROOT = resolve(import.meta.dirname, "../../../..");
export const PYTHON = process.env.OPSML_PYTHON ?? join(ROOT, ".venv/bin/python");
/** The `opsml` command: the one the project's Python installs, unless OPSML_COMMAND names
 *  another build of it. */
export const OPSML = process.env.OPSML_COMMAND ?? join(dirname(PYTHON), "opsml");
const SCREENSHOTS = resolve(import.meta.dirname, "../screenshots");

/** Chromium's flags for a headless run on a machine without a display or a network. */
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function scratch(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `opsml-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs Python `code` in `cwd` with `env` added; returns what it printed. */
export function python(code: string, cwd: string, env: Record<string, string> = {}): string {
  return execFileSync(PYTHON, ["-c", code], {
    cwd,
    env: { ...process.env, ...env },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
}

/** Starts Python `code` in the background. */
export function pythonInBackground(code: string, cwd: string, env: Record<string, string> = {}): ChildProcess {
  return spawn(PYTHON, ["-c", code], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
}

/** The first line of `child`'s standard output that `match` accepts, within `seconds`. */
export function lineOf(child: ChildProcess, match: (line: string) => boolean, seconds = 60): Promise<string> {
  return new Promise((done, fail) => {
    if (!child.stdout) return fail(new Error("the process has no standard output"));
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => fail(new Error(`no matching line within ${seconds} s`)), seconds * 1000);
    lines.on("line", (line) => {
      if (match(line)) {
        clearTimeout(timer);
        done(line);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new Error(`the process exited with ${code} before printing the line`));
    });
  });
}

export interface Ui {
  /** The launch address, token included. */
  url: string;
  /** The address without the token. */
  base: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** `opsml ui` on the SQLite store of `dir`. */
export async function startUi(dir: string): Promise<Ui> {
  const child = spawn(OPSML, ["ui", "--port", "0"], {
    cwd: dir,
    env: { ...process.env, OPSML_TRACKING_URI: `sqlite:///${dir}/opsml.db` },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await lineOf(child, (l) => l.startsWith("open "));
  const url = line.slice("open ".length).trim();
  return { url, base: new URL(url).origin, process: child, stop: () => stopProcess(child) };
}

/** SIGTERM, then waits for the process to exit. */
export function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once("exit", () => done());
    child.kill("SIGTERM");
  });
}

export function chromiumPath(): string {
  return (
    process.env.OPSML_CHROMIUM ??
    execFileSync("which", ["chromium"], { encoding: "utf8" }).trim()
  );
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_FLAGS });
}

/** Errors the page reports (console errors, CSP violations, uncaught exceptions) as they
 *  come; a test asserts there were none. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return errors;
}

/** Saves what the page shows as screenshots/<name>.png (shown in the README). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
}
