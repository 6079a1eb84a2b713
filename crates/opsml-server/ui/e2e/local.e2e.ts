// `opsml ui` on a real SQLite store, runs logged by the Python API, pages in Chromium.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import {
  launchBrowser,
  pageErrors,
  python,
  pythonInBackground,
  lineOf,
  scratch,
  screenshot,
  startUi,
  stopProcess,
  type Ui,
} from "./harness";

const HOSTILE = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>";
const NOTES = "trained on the full set\nlr schedule: cosine\n";

/** Logs the runs the tests look at; prints their uids as JSON. */
const LOG_RUNS = `
import json, math, opsml, pathlib, struct, zlib

def png(width, height):
    """A red picture, as PNG bytes."""
    rows = b"".join(b"\\x00" + b"\\xff\\x00\\x00" * width for _ in range(height))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")

files = pathlib.Path("to-log")
files.mkdir()
(files / "red.png").write_bytes(png(40, 30))
(files / "notes.txt").write_text(${JSON.stringify(NOTES)})
(files / "report.html").write_text(${JSON.stringify(HOSTILE)})
uids = {}
with opsml.start_experiment(space="vision", name="resnet", tags=["baseline"]) as exp:
    exp.set_description("Baseline for the sweep.\\n" + ${JSON.stringify(HOSTILE)})
    exp.log_parameters({"lr": 0.1, "optimizer": "adam", "epochs": 5})
    exp.log_eval_metrics({"test.accuracy": 0.93, "test.loss": float("nan")})
    exp.log_figure_from_path(files / "red.png")
    exp.log_artifact(files / "notes.txt")
    exp.log_artifact(files / "report.html")
    for step in range(5000):
        value = 1.0 / (1.0 + step * 0.01)
        if step == 777:
            value = float("nan")
        if step == 1500:
            value = float("inf")
        exp.log_metric("loss", value, step=step)
    for step in range(50):
        exp.log_metric("accuracy", step / 50, step=step)
    uids["resnet"] = exp.uid
    with exp.start_experiment(name="resnet-fold-1") as child:
        child.log_parameter("fold", 1)
        uids["child"] = child.uid
with opsml.start_experiment(space="vision", name="vit") as exp:
    exp.log_parameters({"lr": 0.01, "optimizer": "sgd", "note": ${JSON.stringify(HOSTILE)}})
    for step in range(300):
        exp.log_metric("loss", 2.0 - step / 300, step=step)
    uids["vit"] = exp.uid
with opsml.start_experiment(space="nlp", name=${JSON.stringify(HOSTILE)}) as exp:
    exp.log_parameter("lr", 0.5)
    exp.log_metric("loss", 3.0, step=0)
    uids["hostile"] = exp.uid
print(json.dumps(uids))
`;

let store: ReturnType<typeof scratch>;
let ui: Ui;
let browser: Browser;
let uids: Record<string, string>;

async function openPage(path = "/"): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const errors = pageErrors(page);
  // The launch address sets the session cookie and leads to the page asked for.
  const launch = new URL(ui.url);
  launch.pathname = path;
  await page.goto(launch.toString());
  return { page, errors };
}

let commit: string;

beforeAll(async () => {
  store = scratch("ui");
  // The runs are logged from a git checkout, whose commit their cards record.
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.email=e2e@opsml.test", "-c", "user.name=e2e", ...args], {
      cwd: store.dir,
      encoding: "utf8",
    }).trim();
  git("init", "-q");
  git("commit", "-q", "--allow-empty", "-m", "start");
  commit = git("rev-parse", "HEAD");
  uids = JSON.parse(python(LOG_RUNS, store.dir)) as Record<string, string>;
  ui = await startUi(store.dir);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await ui?.stop();
  store?.remove();
});

describe("opsml ui", () => {
  it("opens only with its launch token, which leaves the address bar", async () => {
    const answer = await fetch(`${ui.base}/api/v1/runs`);
    expect(answer.status).toBe(401);
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe("launch_token_required");
    const wrong = await fetch(`${ui.base}/?token=opsml_not_this_one`, { redirect: "manual" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();

    const { page, errors } = await openPage();
    expect(new URL(page.url()).search).toBe("");
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === "opsml_session");
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe("Strict");
    await page.getByTestId("run-row").first().waitFor();
    expect(errors).toEqual([]);
  });

  it("lists every run with its parameters and metric summaries, children under their parent", async () => {
    const { page, errors } = await openPage();
    await page.getByTestId("run-row").first().waitFor();
    await expect.poll(() => page.getByTestId("run-row").count()).toBe(4);
    const names = await page.getByTestId("run-row").locator("a").allTextContents();
    const resnet = names.indexOf("resnet");
    expect(names[resnet + 1]).toBe("resnet-fold-1");
    const header = await page.locator(".row.head").textContent();
    expect(header).toContain("lr");
    expect(header).toContain("loss (last)");
    await screenshot(page, "runs-table");
    expect(errors).toEqual([]);
  });

  it("filters with the search language and shows a mistake with its position", async () => {
    const { page } = await openPage();
    await page.getByTestId("run-row").first().waitFor();
    await page.getByLabel("Filter").fill("params.lr < 0.2 and metrics.loss < 1");
    await page.getByLabel("Filter").press("Enter");
    await expect.poll(() => page.getByTestId("run-row").locator("a").allTextContents()).toEqual(["resnet"]);
    // The filter is in the address: a reload shows the same table.
    expect(new URL(page.url()).searchParams.get("filter")).toBe("params.lr < 0.2 and metrics.loss < 1");
    await page.reload();
    await expect.poll(() => page.getByTestId("run-row").locator("a").allTextContents()).toEqual(["resnet"]);

    await page.getByLabel("Filter").fill("params.lr <");
    await page.getByLabel("Filter").press("Enter");
    const problem = page.getByTestId("filter-error");
    await problem.waitFor();
    expect(await problem.textContent()).toMatch(/position|column|\^/);
  });

  it("sorts by a metric column, empty cells last", async () => {
    const { page } = await openPage("/");
    await page.getByTestId("run-row").first().waitFor();
    await page.getByRole("button", { name: "loss (last)" }).click();
    await expect
      .poll(() => page.getByTestId("run-row").locator("a").allTextContents())
      .toEqual(["resnet", "resnet-fold-1", "vit", HOSTILE]);
    expect(new URL(page.url()).searchParams.get("sort")).toBe("metric:loss");
  });

  it("shows a script in a run's name or parameter as text", async () => {
    const { page, errors } = await openPage();
    await page.getByTestId("run-row").first().waitFor();
    await expect.poll(() => page.getByText(HOSTILE, { exact: true }).count()).toBeGreaterThan(0);
    await page.goto(`${ui.base}/runs/${uids.vit}`);
    await page.getByTestId("parameters").waitFor();
    expect(await page.getByTestId("parameters").textContent()).toContain(HOSTILE);
    await page.goto(`${ui.base}/runs/${uids.hostile}`);
    await page.getByTestId("run-name").waitFor();
    expect(await page.getByTestId("run-name").textContent()).toContain(HOSTILE);
    expect(await page.title()).toBe("opsml");
    expect(await page.locator("main img, main script").count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it("shows a run's details, parameters and a chart of the stored points", async () => {
    const { page, errors } = await openPage(`/runs/${uids.resnet}`);
    await page.getByTestId("run-page").waitFor();
    expect(await page.getByTestId("run-status").textContent()).toBe("completed");
    expect(await page.getByTestId("git").textContent()).toContain(commit.slice(0, 12));
    // The description keeps its lines and shows markup as text.
    expect(await page.getByTestId("description").innerText()).toBe(`Baseline for the sweep.\n${HOSTILE}`);
    expect(await page.getByTestId("description").locator("*").count()).toBe(0);
    const evaluation = await page.getByTestId("eval-metrics").textContent();
    expect(evaluation).toContain("test.accuracy0.93");
    expect(evaluation).toContain("test.lossNaN");
    const parameters = await page.getByTestId("parameters").textContent();
    expect(parameters).toContain("optimizer");
    expect(parameters).toContain("adam");
    const chart = page.locator('[data-testid="chart"][data-metric="loss"]');
    await chart.locator("canvas").waitFor();
    // 5000 points downsampled to about the chart's width, first and last kept.
    await expect.poll(async () => Number(await chart.getAttribute("data-points"))).toBeGreaterThan(0);
    const plotted = Number(await chart.getAttribute("data-points"));
    expect(plotted).toBeGreaterThan(100);
    expect(plotted).toBeLessThan(5000);
    expect(await chart.getByTestId("gaps").textContent()).toMatch(/1 NaN and 1 infinite/);
    // Hovering shows the stored value at the step under the cursor, across the chart.
    const box = await chart.locator(".u-over").boundingBox();
    if (!box) throw new Error("the chart has no plotting area");
    const legend = chart.locator(".u-legend .u-series");
    const stored = (step: number) => String(Number((1 / (1 + step * 0.01)).toPrecision(6)));
    const seen: number[] = [];
    for (const fraction of [0.1, 0.4, 0.7, 0.999]) {
      await page.mouse.move(box.x + box.width * fraction, box.y + box.height / 2);
      await expect.poll(() => legend.nth(0).locator(".u-value").textContent()).not.toBe("—");
      const step = Number(await legend.nth(0).locator(".u-value").textContent());
      expect(Number.isInteger(step)).toBe(true);
      seen.push(step);
      if (step !== 777 && step !== 1500) {
        expect(await legend.nth(1).locator(".u-value").textContent()).toBe(stored(step));
      }
    }
    expect(seen[3]).toBeGreaterThan(4900);
    expect(new Set(seen).size).toBe(4);
    await screenshot(page, "run-page");
    expect(errors).toEqual([]);
  });

  it("shows a run's figures and text artifacts decrypted and downloads any artifact", async () => {
    const { page, errors } = await openPage(`/runs/${uids.resnet}`);
    const picture = page.getByTestId("pictures").locator("img");
    await picture.waitFor();
    expect(await picture.getAttribute("alt")).toBe("figures/red.png");
    // Decoded: the bytes came back decrypted as a real picture.
    await expect.poll(() => picture.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(40);
    // A tree: each folder with its total size, its files under it.
    const folder = page.getByTestId("artifacts").locator("tr.folder", { hasText: "figures/" });
    expect(await folder.textContent()).toContain("98 B");
    expect(await folder.textContent()).toContain("1 file");
    const notes = page.getByTestId("artifacts").locator("tr", { hasText: "notes.txt" });
    await notes.getByRole("button", { name: "show" }).click();
    expect(await page.getByTestId("artifact-text").textContent()).toBe(NOTES);
    // A page logged as an artifact is saved as a file, never opened as a page of this site.
    const report = page.getByTestId("artifacts").locator("tr", { hasText: "report.html" });
    expect(await report.getByRole("button", { name: "show" }).count()).toBe(0);
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      report.getByRole("link", { name: "download" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("report.html");
    const saved = await download.path();
    expect(readFileSync(saved, "utf8")).toBe(HOSTILE);
    expect(await page.title()).toBe("opsml");
    await screenshot(page, "run-artifacts");
    expect(errors).toEqual([]);
  });

  it("lists a run's children and links to comparing them", async () => {
    const { page, errors } = await openPage(`/runs/${uids.resnet}`);
    const children = page.getByTestId("children");
    await children.waitFor();
    expect(await children.locator("tbody a").allTextContents()).toEqual(["resnet-fold-1"]);
    await children.locator("tbody a").click();
    await expect.poll(() => page.getByTestId("run-name").textContent()).toContain("resnet-fold-1");
    expect(await page.getByTestId("children").count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it("shows the columns chosen, and keeps the choice in the address", async () => {
    const { page, errors } = await openPage();
    await page.getByTestId("run-row").first().waitFor();
    const header = page.locator(".row.head");
    expect(await header.textContent()).toContain("optimizer");
    await page.getByTestId("column-chooser").locator("summary").click();
    await page.getByLabel("Find a column").fill("optim");
    await page.getByTestId("column-chooser").getByRole("checkbox").uncheck();
    await expect.poll(() => header.textContent()).not.toContain("optimizer");
    expect(await header.textContent()).toContain("loss (last)");
    expect(new URL(page.url()).searchParams.getAll("col")).not.toContain("param:optimizer");
    await page.reload();
    await page.getByTestId("run-row").first().waitFor();
    expect(await header.textContent()).not.toContain("optimizer");
    expect(await header.textContent()).toContain("lr");
    expect(errors).toEqual([]);
  });

  it("zooms into a range at full detail and pans it with Shift-drag", async () => {
    const { page, errors } = await openPage(`/runs/${uids.resnet}`);
    const chart = page.locator('[data-testid="chart"][data-metric="loss"]');
    // Drawn with its points (a chart is drawn empty first, then again with them).
    await expect.poll(async () => Number(await chart.getAttribute("data-points"))).toBeGreaterThan(0);
    await chart.locator("canvas").waitFor();
    const box = await chart.locator(".u-over").boundingBox();
    if (!box) throw new Error("the chart has no plotting area");
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width * 0.4, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.45, y, { steps: 5 });
    await page.mouse.up();
    const range = async (): Promise<[number, number]> => [
      Number(await chart.getAttribute("data-x-min")),
      Number(await chart.getAttribute("data-x-max")),
    ];
    await expect.poll(async () => (await range())[0]).toBeGreaterThan(1500);
    const [min, max] = await range();
    expect(max - min).toBeLessThan(400);
    // Every stored point of the range is drawn, not a downsampled few.
    await expect.poll(async () => Number(await chart.getAttribute("data-points"))).toBeGreaterThanOrEqual(Math.floor(max - min));
    await page.keyboard.down("Shift");
    await page.mouse.move(box.x + box.width * 0.5, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, y, { steps: 5 });
    await page.mouse.up();
    await page.keyboard.up("Shift");
    const [panMin, panMax] = await range();
    expect(panMin).toBeLessThan(min);
    expect(Math.abs(panMax - panMin - (max - min))).toBeLessThan((max - min) * 0.01);
    expect(errors).toEqual([]);
  });

  it("draws a point logged by a running script in the open chart", async () => {
    const script = pythonInBackground(
      `
import time, opsml
with opsml.start_experiment(space="vision", name="live") as exp:
    exp.log_metric("loss", 1.0, step=0)
    exp.flush()
    print(exp.uid, flush=True)
    # Longer than every interval of the logging pipeline before the next point.
    time.sleep(7)
    for step in range(1, 4):
        exp.log_metric("loss", 1.0 / (step + 1), step=step)
        time.sleep(0.5)
`,
      store.dir,
    );
    try {
      const uid = (await lineOf(script, (l) => /^[0-9a-f-]{36}$/.test(l.trim()))).trim();
      const { page, errors } = await openPage(`/runs/${uid}`);
      const chart = page.locator('[data-testid="chart"][data-metric="loss"]');
      await chart.locator("canvas").waitFor();
      expect(await page.getByTestId("run-status").textContent()).toBe("running");
      await expect.poll(() => chart.getAttribute("data-points"), { timeout: 10_000 }).toBe("1");
      await expect.poll(() => chart.getAttribute("data-points"), { timeout: 20_000 }).toBe("4");
      await expect
        .poll(() => page.getByTestId("run-status").textContent(), { timeout: 20_000 })
        .toBe("completed");
      expect(errors).toEqual([]);
    } finally {
      await stopProcess(script);
    }
  });

  it("compares two selected runs: differing parameters first, curves overlaid and labelled by them", async () => {
    const { page, errors } = await openPage();
    await page.getByTestId("run-row").first().waitFor();
    await page.getByLabel("select resnet", { exact: true }).check();
    await page.getByLabel("select vit", { exact: true }).check();
    await page.getByRole("link", { name: "Compare 2" }).click();
    await page.getByTestId("compare-page").waitFor();
    expect(new URL(page.url()).searchParams.getAll("uid").sort()).toEqual([uids.resnet, uids.vit].sort());
    const first = await page.getByTestId("compare-parameters").locator("tbody tr").first().locator("th").textContent();
    expect(["epochs", "lr", "note", "optimizer"]).toContain(first);
    const chart = page.locator('[data-testid="chart"][data-metric="loss"]');
    await expect.poll(async () => Number(await chart.getAttribute("data-points"))).toBeGreaterThan(0);
    await chart.locator("canvas").waitFor();
    const labels = await chart.locator(".u-legend .u-series .u-label").allTextContents();
    expect(labels.slice(1).some((l) => l.includes("lr=0.1"))).toBe(true);
    expect(labels.slice(1).some((l) => l.includes("lr=0.01"))).toBe(true);
    // Hovering shows each run's stored value at the step under the cursor.
    const box = await chart.locator(".u-over").boundingBox();
    if (!box) throw new Error("the chart has no plotting area");
    await page.mouse.move(box.x + 3, box.y + box.height / 2);
    const values = chart.locator(".u-legend .u-series .u-value");
    await expect.poll(() => values.nth(0).textContent()).not.toBe("—");
    const step = Number(await values.nth(0).textContent());
    expect(step).toBeLessThan(300);
    const shown = [await values.nth(1).textContent(), await values.nth(2).textContent()];
    const resnetFirst = labels[1]?.includes("lr=0.1,") || labels[1]?.endsWith("lr=0.1");
    const [resnetShown, vitShown] = resnetFirst ? shown : [shown[1], shown[0]];
    expect(vitShown).toBe(String(Number((2 - step / 300).toPrecision(6))));
    // Resnet's points are downsampled: its legend shows its nearest stored point, the value
    // of a whole step near the cursor's.
    const resnetStep = (1 / Number(resnetShown) - 1) / 0.01;
    expect(Math.abs(resnetStep - Math.round(resnetStep))).toBeLessThan(0.01);
    expect(Math.abs(resnetStep - step)).toBeLessThan(30);
    // Each metric's row shows the summary chosen: vit's loss fell from 2 to 2 - 299/300.
    const lossRow = page.getByTestId("compare-parameters").locator("tr", { hasText: "loss (" });
    await page.getByTestId("compare-summary").selectOption("min");
    await expect.poll(() => lossRow.locator("th").textContent()).toBe("loss (min)");
    expect(await lossRow.textContent()).toContain(String(Number((2 - 299 / 300).toPrecision(6))));
    await page.getByTestId("compare-summary").selectOption("max");
    await expect.poll(() => lossRow.textContent()).toContain("loss (max)");
    expect(await lossRow.locator("td").allTextContents()).toContain("2");
    await page.getByTestId("scatter-parameter").selectOption("lr");
    await page.getByTestId("scatter-metric").selectOption("loss");
    await expect.poll(async () => Number(await page.getByTestId("scatter").getAttribute("data-points"))).toBe(2);
    await screenshot(page, "compare");
    expect(errors).toEqual([]);
  });

  it("answers an unknown API path with the API's error and a page path with the app", async () => {
    const missing = await fetch(`${ui.base}/api/v1/nothing-here`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("not_found");
    const page = await fetch(`${ui.base}/runs/whatever`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    const html = await page.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeTruthy();
    const asset = await fetch(`${ui.base}${script}`, { headers: { "accept-encoding": "gzip" } });
    expect(asset.headers.get("cache-control")).toContain("immutable");
    expect(asset.headers.get("content-encoding")).toBe("gzip");
  });
});

describe("opsml ui's hardware charts", () => {
  it("shows the CPU and memory a run sampled", async () => {
    const uid = python(
      `
import time, opsml
with opsml.start_experiment(space="vision", name="profiled", log_hardware=True, hardware_interval=0.5) as exp:
    busy = time.time() + 2.5
    while time.time() < busy:
        sum(range(1000))
print(exp.uid)
`,
      store.dir,
    ).trim();
    const { page, errors } = await openPage(`/runs/${uid}`);
    await page.getByTestId("hardware").waitFor();
    const titles = await page.getByTestId("hardware-chart").evaluateAll((charts) =>
      charts.map((c) => c.getAttribute("data-title")),
    );
    expect(titles).toContain("CPU");
    expect(titles).toContain("Memory");
    await page.locator('[data-title="CPU"] canvas').waitFor();
    expect(errors).toEqual([]);
  });
});
