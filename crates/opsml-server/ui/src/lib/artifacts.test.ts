import { describe, expect, it } from "vitest";
import {
  artifactTree,
  contentUrl,
  isPicture,
  isText,
  MAX_PICTURE_BYTES,
  shownText,
  TEXT_SHOWN_BYTES,
} from "./artifacts";
import type { ArtifactRecord } from "./types";

const record = (path: string, media_type: string, size = 10): ArtifactRecord => ({
  path,
  media_type,
  size,
  created_at: "2026-01-01T00:00:00Z",
});

describe("artifacts", () => {
  it("shows pictures and texts of a sensible size, never pages", () => {
    expect(isPicture(record("figures/a.png", "image/png"))).toBe(true);
    expect(isPicture(record("figures/a.svg", "image/svg+xml"))).toBe(true);
    expect(isPicture(record("big.png", "image/png", MAX_PICTURE_BYTES + 1))).toBe(false);
    expect(isText(record("notes.txt", "text/plain"))).toBe(true);
    expect(isText(record("page.html", "text/html"))).toBe(false);
    expect(isPicture(record("page.html", "text/html"))).toBe(false);
  });

  it("addresses an artifact by an escaped path", () => {
    expect(contentUrl("u/1", "a b/c&d.txt")).toBe(
      "/api/v1/experiments/u%2F1/artifacts/content?path=a+b%2Fc%26d.txt",
    );
    expect(contentUrl("u", "m.pt", true)).toBe("/api/v1/experiments/u/artifacts/content?path=m.pt&download=true");
  });

  it("cuts a long text and shows bytes that are not UTF-8 as replacement characters", () => {
    const long = new Uint8Array(TEXT_SHOWN_BYTES + 5).fill(97);
    expect(shownText(long)).toEqual({ text: "a".repeat(TEXT_SHOWN_BYTES), cut: true });
    expect(shownText(new Uint8Array([104, 0xff, 105]))).toEqual({ text: "h\uFFFDi", cut: false });
  });

  it("lays the artifacts out as a tree, each folder with its total size and file count", () => {
    const rows = artifactTree([
      record("model.pt", "application/octet-stream", 100),
      record("figures/b.png", "image/png", 2),
      record("figures/deep/c.svg", "image/svg+xml", 3),
      record("figures/a.png", "image/png", 1),
    ]);
    expect(rows.map((r) => [r.kind, r.name, r.depth])).toEqual([
      ["folder", "figures", 0],
      ["file", "a.png", 1],
      ["file", "b.png", 1],
      ["folder", "deep", 1],
      ["file", "c.svg", 2],
      ["file", "model.pt", 0],
    ]);
    const figures = rows[0];
    expect(figures?.kind === "folder" && [figures.size, figures.files]).toEqual([6, 3]);
  });
});
