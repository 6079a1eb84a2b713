// The UI of a real `opsml server` on PostgreSQL with two users: a login page, the session in
// an HttpOnly SameSite=Strict cookie, CSRF protection on changes, and each user seeing only
// the spaces it may read.

import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchBrowser, lineOf, pageErrors, PYTHON, python, scratch, screenshot, stopProcess } from "./harness";

let home: ReturnType<typeof scratch>;
let fixture: ChildProcess;
let base: string;
let browser: Browser;
const runs: Record<string, string> = {};
const PASSWORDS = { ana: "ana-password-1234", ben: "ben-password-1234" };
/** The team's master key: runs through a server encrypt with it. */
const TEAM_KEY = Buffer.alloc(32, 7).toString("base64");

async function asAdmin(adminPassword: string) {
  const login = await fetch(`${base}/api/v1/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password: adminPassword }),
  });
  const { token } = (await login.json()) as { token: string };
  return (path: string, method: string, body?: unknown) =>
    fetch(`${base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
}

/** Logs a run as `user` in `space` through the server; returns its uid. */
function logRun(user: "ana" | "ben", space: string, name: string): string {
  return python(
    `
import opsml, pathlib
pathlib.Path("notes.txt").write_text("encrypted on the client")
with opsml.start_experiment(space=${JSON.stringify(space)}, name=${JSON.stringify(name)}) as exp:
    exp.log_parameter("lr", 0.1)
    exp.log_artifact("notes.txt")
    for step in range(100):
        exp.log_metric("loss", 1.0 / (step + 1), step=step)
print(exp.uid)
`,
    home.dir,
    { OPSML_TRACKING_URI: base, OPSML_USERNAME: user, OPSML_PASSWORD: PASSWORDS[user], OPSML_ENCRYPT_SECRET: TEAM_KEY, OPSML_SPOOL_DIR: join(home.dir, `spool-${user}`) },
  ).trim();
}

async function logIn(user: "ana" | "ben"): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const errors = pageErrors(page);
  await page.goto(base);
  await page.getByLabel("Username").fill(user);
  await page.getByLabel("Password").fill(PASSWORDS[user]);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByTestId("user").waitFor();
  return { context, page, errors };
}

beforeAll(async () => {
  home = scratch("ui-server");
  fixture = spawn(PYTHON, [join(import.meta.dirname, "serve_fixture.py"), home.dir], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const started = JSON.parse(await lineOf(fixture, (l) => l.startsWith("{"))) as { url: string; password: string };
  base = started.url;
  const admin = await asAdmin(started.password);
  for (const [user, space] of [["ana", "alpha"], ["ben", "beta"]] as const) {
    expect((await admin("/users", "POST", { username: user, password: PASSWORDS[user] })).status).toBe(201);
    expect((await admin(`/users/${user}/grants/${space}`, "PUT", { access: "write" })).ok).toBe(true);
  }
  runs.ana = logRun("ana", "alpha", "ana-run");
  runs.ben = logRun("ben", "beta", "ben-run");
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  fixture?.stdin?.end();
  if (fixture) await Promise.race([new Promise((done) => fixture.once("exit", done)), new Promise((done) => setTimeout(done, 30_000))]);
  if (fixture) await stopProcess(fixture);
  home?.remove();
});

describe("opsml server's UI", () => {
  it("asks for a login and refuses a wrong password", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(base);
    await page.getByLabel("Username").fill("ana");
    await page.getByLabel("Password").fill("not-her-password");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/wrong username or password/);
    await screenshot(page, "login");
    await context.close();
  });

  it("keeps the session in an HttpOnly SameSite=Strict cookie and shows a user only its spaces", async () => {
    const { context, page, errors } = await logIn("ana");
    const session = (await context.cookies()).find((c) => c.name === "opsml_session");
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe("Strict");
    await expect.poll(() => page.getByTestId("run-row").locator("a").allTextContents()).toEqual(["ana-run"]);
    // Ben's run answers as a run that does not exist.
    await page.goto(`${base}/runs/${runs.ben}`);
    const hidden = await page.getByRole("alert").textContent();
    await page.goto(`${base}/runs/00000000-0000-4000-8000-000000000000`);
    const missing = await page.getByRole("alert").textContent();
    expect(hidden?.replace(runs.ben ?? "", "<uid>")).toBe(missing?.replace("00000000-0000-4000-8000-000000000000", "<uid>"));
    await page.goto(`${base}/runs/${runs.ana}`);
    await page.getByTestId("run-page").waitFor();
    expect(await page.getByTestId("run-name").textContent()).toContain("ana-run");
    // The server never holds the key: the artifact is listed, with how to decrypt it.
    await expect.poll(() => page.getByTestId("artifacts").textContent()).toContain("notes.txt");
    expect(await page.locator("main").textContent()).toContain(`opsml experiments download ${runs.ana}`);
    expect(await page.getByTestId("artifacts").getByRole("link", { name: "download" }).count()).toBe(0);
    // The browser reports the answers the pages expect: the session asked for before the
    // login (401) and the runs that are not there (404). Nothing else went wrong.
    expect(errors.filter((e) => !/status of (401|404)/.test(e))).toEqual([]);
    await context.close();

    const ben = await logIn("ben");
    await expect.poll(() => ben.page.getByTestId("run-row").locator("a").allTextContents()).toEqual(["ben-run"]);
    await ben.context.close();
  });

  it("changes nothing for a request without the session cookie or with a wrong CSRF token", async () => {
    const { context, page } = await logIn("ana");
    const cookie = (await context.cookies()).find((c) => c.name === "opsml_session");
    const remove = (headers: Record<string, string>) =>
      fetch(`${base}/api/v1/experiments/${runs.ana}`, { method: "DELETE", headers });
    expect((await remove({})).status).toBe(401);
    expect((await remove({ cookie: `opsml_session=${cookie?.value}` })).status).toBe(403);
    expect((await remove({ cookie: `opsml_session=${cookie?.value}`, "x-csrf-token": "0".repeat(64) })).status).toBe(403);
    // The run is still there, and so is the session.
    const still = await page.evaluate(async (uid) => (await fetch(`/api/v1/experiments/${uid}`)).status, runs.ana);
    expect(still).toBe(200);
    await context.close();
  });
});
